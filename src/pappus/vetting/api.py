"""HTTP routes of the vetting domain."""

from __future__ import annotations

from fastapi import APIRouter

from pappus.accounts.deps import CurrentPrincipal
from pappus.vetting.followers import score_followers, shipped_report
from pappus.vetting.schemas import FollowerScoreOut, FollowerScores, FollowerScoresRequest

router = APIRouter(tags=["vetting"])


@router.post("/vetting/follower-scores", response_model=FollowerScores)
def follower_scores(body: FollowerScoresRequest, principal: CurrentPrincipal) -> FollowerScores:
    """The probability that each follower profile is fake (up to 2,000 at once), with the
    main reasons. The model and its evaluation: docs/vetting.md."""
    report = shipped_report()
    threshold = float(report["threshold"])
    scores = score_followers(body.profiles)
    return FollowerScores(
        model=f"{report['model']} ({report['trained_at']})",
        items=[
            FollowerScoreOut(
                username=p.username,
                probability_fake=s.probability_fake,
                fake=s.probability_fake >= threshold,
                reasons=s.reasons,
            )
            for p, s in zip(body.profiles, scores, strict=True)
        ],
    )
