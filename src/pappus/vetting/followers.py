"""Follower authenticity: the probability that a follower account is fake, with its reasons.

The model is a random forest trained by `pappus vet train` (vetting/train.py) on the public
Instagram fake-account dataset and shipped inside the package as plain arrays
(`follower_model.npz`, with its evaluation in `follower_model.json`). It is evaluated here with
numpy, so serving needs neither scikit-learn nor a pickle tied to one version of it.

Reasons: for each profile, every feature is set in turn to the value typical of genuine
accounts (the training set's genuine median); the features whose typical value lowers the
probability most are the main reasons, each with a sentence a person can check.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from pappus.vetting.schemas import FollowerProfileIn

Float = npt.NDArray[np.float64]

# The features, in the model's column order. Counts enter as log1p.
FEATURES = (
    "has_profile_pic",
    "username_digit_share",
    "full_name_words",
    "full_name_digit_share",
    "name_equals_username",
    "log_bio_length",
    "has_external_url",
    "is_private",
    "log_posts",
    "log_followers",
    "log_following",
    "log_followers_over_following",
    "log_posts_over_followers",
)
MODEL_FILE = "follower_model.npz"
REPORT_FILE = "follower_model.json"
REASONS_SHOWN = 3
# A reason is given only when the genuine value would lower the probability this much
# (the forest is redundant: for a clear fake, one feature alone moves it little).
REASON_MIN_EFFECT = 0.01


def _digit_share(text: str) -> float:
    return sum(c.isdigit() for c in text) / len(text) if text else 0.0


def feature_row(
    *,
    has_profile_pic: bool,
    username: str,
    full_name: str | None,
    bio_length: int,
    has_external_url: bool,
    is_private: bool,
    posts: int,
    followers: int,
    following: int,
) -> list[float]:
    """One profile's features: the dataset's columns (digit shares, name words, ...)
    computed from the raw fields, plus two ratios."""
    name = (full_name or "").strip()
    log_posts, log_followers, log_following = (
        math.log1p(posts),
        math.log1p(followers),
        math.log1p(following),
    )
    return [
        float(has_profile_pic),
        _digit_share(username),
        float(len(name.split())),
        _digit_share(name),
        float(bool(name) and name.casefold() == username.casefold()),
        math.log1p(bio_length),
        float(has_external_url),
        float(is_private),
        log_posts,
        log_followers,
        log_following,
        log_followers - log_following,
        log_posts - log_followers,
    ]


def features_of(profiles: list[FollowerProfileIn]) -> Float:
    return np.array(
        [
            feature_row(
                has_profile_pic=p.has_profile_pic,
                username=p.username,
                full_name=p.full_name,
                bio_length=p.bio_length,
                has_external_url=p.has_external_url,
                is_private=p.is_private,
                posts=p.posts,
                followers=p.followers,
                following=p.following,
            )
            for p in profiles
        ],
        dtype=np.float64,
    ).reshape(len(profiles), len(FEATURES))


@dataclass(frozen=True)
class Forest:
    """A forest of binary trees as flat arrays: node i of the forest splits on
    `feature[i] <= threshold[i]` into `left[i]`/`right[i]` (-1 at a leaf, whose `value` is the
    share of fake accounts there); `roots` are the trees' first nodes."""

    left: npt.NDArray[np.int32]
    right: npt.NDArray[np.int32]
    feature: npt.NDArray[np.int32]
    threshold: Float
    value: Float
    roots: npt.NDArray[np.int32]
    genuine_median: Float  # per feature, the training set's genuine accounts

    def predict(self, x: Float) -> Float:
        """The probability of being fake, for each row of `x`: the trees' mean leaf value."""
        if len(x) == 0:
            return np.zeros(0)
        # The trees were grown on float32 features (scikit-learn's), so compare in float32.
        x = x.astype(np.float32).astype(np.float64)
        nodes = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        rows = np.arange(len(x))[:, None]
        while True:
            inner = self.left[nodes] >= 0
            if not inner.any():
                break
            goes_left = x[rows, self.feature[nodes]] <= self.threshold[nodes]
            step = np.where(goes_left, self.left[nodes], self.right[nodes])
            nodes = np.where(inner, step, nodes)
        result: Float = self.value[nodes].mean(axis=1)
        return result

    def save(self, path: Any) -> None:
        np.savez_compressed(
            path,
            left=self.left,
            right=self.right,
            feature=self.feature,
            threshold=self.threshold,
            value=self.value,
            roots=self.roots,
            genuine_median=self.genuine_median,
        )

    @classmethod
    def load(cls, path: Any) -> Forest:
        with np.load(path) as data:
            return cls(
                left=data["left"],
                right=data["right"],
                feature=data["feature"],
                threshold=data["threshold"],
                value=data["value"],
                roots=data["roots"],
                genuine_median=data["genuine_median"],
            )


@lru_cache(maxsize=1)
def shipped_model() -> Forest:
    """The model inside the package (no download)."""
    with resources.as_file(resources.files("pappus.vetting") / MODEL_FILE) as path:
        return Forest.load(path)


@lru_cache(maxsize=1)
def shipped_report() -> dict[str, Any]:
    """How the shipped model was trained and what it scored (written by vetting/train.py)."""
    text = (resources.files("pappus.vetting") / REPORT_FILE).read_text(encoding="utf-8")
    report: dict[str, Any] = json.loads(text)
    return report


def _reason(name: str, row: Float, profile: FollowerProfileIn) -> str:
    messages = {
        "has_profile_pic": "no profile picture",
        "username_digit_share": f"the username is {row[1]:.0%} digits",
        "full_name_words": "no full name" if not row[2] else f"a {int(row[2])}-word full name",
        "full_name_digit_share": f"the full name is {row[3]:.0%} digits",
        "name_equals_username": "the full name repeats the username",
        "log_bio_length": "an empty bio" if not profile.bio_length else "a very short bio",
        "has_external_url": "no link in the bio",
        "is_private": "a private account" if profile.is_private else "a public account",
        "log_posts": f"{profile.posts:,} posts",
        "log_followers": f"only {profile.followers:,} followers",
        "log_following": f"follows {profile.following:,} accounts",
        "log_followers_over_following": (
            f"follows {profile.following:,} accounts but has {profile.followers:,} followers"
        ),
        "log_posts_over_followers": f"{profile.posts:,} posts for {profile.followers:,} followers",
    }
    return messages[name]


def probabilities(profiles: list[FollowerProfileIn], model: Forest | None = None) -> Float:
    """The probability that each profile is fake, without reasons (for whole samples)."""
    return (model or shipped_model()).predict(features_of(profiles))


@dataclass(frozen=True)
class FollowerScore:
    probability_fake: float
    reasons: list[str]


def score_followers(
    profiles: list[FollowerProfileIn], model: Forest | None = None
) -> list[FollowerScore]:
    """The probability that each profile is fake, and up to three reasons."""
    forest = model or shipped_model()
    x = features_of(profiles)
    base = forest.predict(x)
    # What each feature's genuine-typical value would do to the probability.
    effects = np.zeros_like(x)
    for column in range(x.shape[1]):
        changed = x.copy()
        changed[:, column] = forest.genuine_median[column]
        effects[:, column] = base - forest.predict(changed)
    scores = []
    for i, profile in enumerate(profiles):
        order = np.argsort(-effects[i], kind="stable")[:REASONS_SHOWN]
        reasons = [
            _reason(FEATURES[c], x[i], profile) for c in order if effects[i, c] >= REASON_MIN_EFFECT
        ]
        scores.append(FollowerScore(round(float(base[i]), 4), reasons))
    return scores
