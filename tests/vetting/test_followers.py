"""The follower-authenticity model: shipped, reproducible, and reachable over HTTP and the
CLI with clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pappus.vetting import train
from pappus.vetting.followers import Forest, score_followers, shipped_model, shipped_report
from pappus.vetting.schemas import FollowerProfileIn
from tests.fixtures.builders import World, ok

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "instagram-fake-accounts"
GENUINE: dict[str, Any] = {
    "username": "lin.xiaoyu",
    "followers": 1800,
    "following": 420,
    "posts": 230,
    "has_profile_pic": True,
    "is_private": False,
    "bio_length": 86,
    "full_name": "Lin Xiaoyu",
    "has_external_url": True,
}
FAKE: dict[str, Any] = {
    "username": "ab48213977",
    "followers": 3,
    "following": 2400,
    "posts": 0,
    "has_profile_pic": False,
    "is_private": False,
    "bio_length": 0,
}


def test_the_shipped_model_meets_the_accuracy_bar_it_reports() -> None:
    report = shipped_report()
    assert report["test_split"]["accuracy"] >= 0.93
    assert report["test_split"]["n"] == 120 and report["training_rows"] == 576
    assert set(report["cross_validation_5_fold"]) >= {"accuracy", "precision", "recall", "f1"}
    assert len(shipped_model().roots) == train.TREES


@pytest.mark.skipif(not DATA.is_dir(), reason="the shared fake-account dataset is not here")
def test_training_reproduces_the_shipped_model(tmp_path: Path) -> None:
    report = train.train(DATA, tmp_path)
    shipped = shipped_report()
    for split in ("test_split", "cross_validation_5_fold"):
        assert report[split] == shipped[split]
    x_test, _ = train.load_split(DATA / "test.csv")
    retrained = Forest.load(tmp_path / "follower_model.npz")
    assert np.array_equal(retrained.predict(x_test), shipped_model().predict(x_test))


def test_obvious_profiles_get_the_obvious_answer_with_reasons() -> None:
    genuine, fake = score_followers(
        [FollowerProfileIn.model_validate(GENUINE), FollowerProfileIn.model_validate(FAKE)]
    )
    assert genuine.probability_fake < 0.2 and fake.probability_fake > 0.8
    assert fake.reasons and len(fake.reasons) <= 3
    assert any("followers" in r or "digits" in r or "picture" in r for r in fake.reasons)


def test_the_api_scores_profiles_and_refuses_bad_ones(world: World) -> None:
    brand = world.brand()
    answer = ok(
        world.client.post(
            "/api/v1/vetting/follower-scores",
            json={"profiles": [GENUINE, FAKE]},
            headers=brand.headers,
        )
    )
    assert [i["username"] for i in answer["items"]] == ["lin.xiaoyu", "ab48213977"]
    assert [i["fake"] for i in answer["items"]] == [False, True]
    assert answer["model"].startswith("random-forest")
    for body in (
        {"profiles": []},
        {"profiles": [{**GENUINE, "followers": -1}]},
        {"profiles": [{**GENUINE, "followers": "12"}]},
        {"profiles": [{**GENUINE, "surprise": 1}]},
        {"profiles": [GENUINE] * 2001},
    ):
        refused = world.client.post(
            "/api/v1/vetting/follower-scores", json=body, headers=brand.headers
        )
        assert refused.status_code == 422, body
    unauthenticated = world.client.post(
        "/api/v1/vetting/follower-scores", json={"profiles": [GENUINE]}
    )
    assert unauthenticated.status_code == 401


def test_the_cli_reads_and_writes_json_lines(tmp_path: Path) -> None:
    source = tmp_path / "followers.jsonl"
    source.write_text(
        json.dumps(GENUINE) + "\n\n" + json.dumps(FAKE) + "\n" + '{"username": "x"}\n',
        encoding="utf-8",
    )
    run = subprocess.run(
        [sys.executable, "-m", "pappus.cli", "vet", "followers", str(source)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1  # the malformed third line
    assert "line 4" in run.stderr
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["username"] for r in results] == ["lin.xiaoyu", "ab48213977"]
    assert results[1]["fake"] is True and 0 <= results[1]["probability_fake"] <= 1
