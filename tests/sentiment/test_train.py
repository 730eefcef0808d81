"""Training: de-duplication rules and the whole pipeline on a tiny corpus written here, and
the real corpus's de-duplication figures when ../shared/data is at hand."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pappus.sentiment import train
from pappus.sentiment.model import ZhModel, evaluate_report

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "sentiment-zh"
GOOD = ["很好用", "非常满意", "质量很好", "推荐购买", "物超所值", "很喜欢", "服务很好", "干净舒适"]
BAD = ["很难用", "非常失望", "质量很差", "不推荐", "太贵了", "不喜欢", "服务很差", "又脏又吵"]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _tiny_corpus(folder: Path) -> None:
    hotel = [["1", f"酒店{t}"] for t in GOOD] + [["0", f"酒店{t}"] for t in BAD] + [["0", ""]]
    shopping = []
    for cat in ("衣服", "水果", "书籍"):
        shopping += [[cat, "1", f"{cat}{t}{i}"] for i, t in enumerate(GOOD)]
        shopping += [[cat, "0", f"{cat}{t}{i}"] for i, t in enumerate(BAD)]
    shopping += [["酒店", "1", "\ufeff酒店很好用 "]]  # also in the hotel file, after trimming
    shopping += [["衣服", "1", "还可以"], ["水果", "0", "还可以"]]  # conflicting: dropped
    shopping += [["衣服", "1", "衣服很好用0"]]  # a duplicate within the file
    _write(folder / train.HOTEL_FILE, ["label", "review"], hotel)
    _write(folder / train.SHOPPING_FILE, ["cat", "label", "review"], shopping)


def test_deduplication_across_and_within_files(tmp_path: Path) -> None:
    _tiny_corpus(tmp_path)
    corpus = train.load_corpus(tmp_path)
    assert corpus.stats["empty_reviews_dropped"] == 1
    assert corpus.stats["conflicting_texts_dropped"] == 1
    assert corpus.stats["texts"] == 16 + 3 * 16
    assert corpus.stats["by_domain"]["酒店"] == 16
    assert len(set(corpus.texts)) == len(corpus.texts)
    assert "还可以" not in corpus.texts


def test_training_writes_a_model_and_an_honest_card(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    _tiny_corpus(tmp_path / "data")
    messages: list[str] = []
    card = train.train(tmp_path / "data", tmp_path / "out", progress=messages.append)
    assert (tmp_path / "out" / "model.npz").is_file()
    assert card["split"]["train"] + card["split"]["test"] == card["training_data"]["texts"]
    assert card["out_of_domain_hotels"]["n"] == 16
    assert set(card["leave_one_category_out"]["by_domain"]) == {"酒店", "衣服", "水果", "书籍"}
    assert any("leave-one-category-out" in m for m in messages)
    model = ZhModel.load(tmp_path / "out" / "model.npz")
    assert model.logits(["很好用"])[0] > 0 > model.logits(["很差"])[0]


def test_the_command_line_refuses_a_folder_without_the_data(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        train.main(["--data", str(tmp_path), "--out", str(tmp_path / "out")])


@pytest.mark.skipif(not DATA.is_dir(), reason="the shared sentiment-zh dataset is not here")
def test_the_real_corpus_deduplicates_as_the_card_says() -> None:
    corpus = train.load_corpus(DATA)
    assert corpus.stats == {key: evaluate_report()["training_data"][key] for key in corpus.stats}
    # 70,540 rows: 2 empty, 64,914 distinct after trimming, 18 of them with both labels.
    assert corpus.stats["texts"] == 64_896
    assert corpus.stats["by_domain"]["酒店"] == 12_191
