"""The `pappus` command: serve, demo, sandbox, migrate, worker, staff, workflow, ledger."""

from __future__ import annotations

import getpass
import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from pappus import __version__

app = typer.Typer(
    name="pappus",
    help="Pappus: open-source influencer marketing.\n\nExample: pappus demo --port 8000",
    no_args_is_help=True,
    add_completion=False,
)
staff_app = typer.Typer(
    help="Platform staff accounts.\n\nExample: pappus staff create ops@example.com"
)
workflow_app = typer.Typer(help="The order workflow.\n\nExample: pappus workflow diagram")
app.add_typer(staff_app, name="staff")
ledger_app = typer.Typer(help="The double-entry ledger.\n\nExample: pappus ledger check")
app.add_typer(workflow_app, name="workflow")
app.add_typer(ledger_app, name="ledger")
vet_app = typer.Typer(
    help="Vetting: follower authenticity.\n\nExample: pappus vet followers followers.jsonl"
)
app.add_typer(vet_app, name="vet")
compliance_app = typer.Typer(
    help="Compliance: check posts against the advertising-law rule packs.\n\n"
    "Example: pappus compliance check drafts.jsonl"
)
app.add_typer(compliance_app, name="compliance")
audit_app = typer.Typer(help="The audit trail.\n\nExample: pappus audit verify")
app.add_typer(audit_app, name="audit")


def _logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)


@app.command()
def version() -> None:
    """Print the version.\n\nExample: pappus version"""
    typer.echo(__version__)


@app.command()
def migrate(
    database_url: Annotated[
        str | None, typer.Option(help="Defaults to PAPPUS_DATABASE_URL or sqlite:///pappus.db")
    ] = None,
) -> None:
    """Apply database migrations up to the latest.

    Example: PAPPUS_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/pappus pappus migrate
    """
    from pappus.config import get_settings
    from pappus.migrate import current, upgrade

    url = database_url or get_settings().database_url
    upgrade(url)
    typer.echo(f"database at revision {current(url)}")


def _serve(host: str, port: int, workers: int) -> None:
    import uvicorn

    # Every worker builds its discovery index at start, not at its first search.
    os.environ.setdefault("PAPPUS_DISCOVERY_PRELOAD", "true")
    from pappus.config import get_settings

    get_settings.cache_clear()

    if workers > 1:
        from pappus import serving

        options = serving.ServeOptions("pappus.asgi:app", log_level="info")
        raise typer.Exit(serving.run(options, host=host, port=port, workers=workers))
    from pappus.app import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="info")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes. On Linux each accepts on its own SO_REUSEPORT socket, so "
            "keep-alive clients spread over all of them.",
        ),
    ] = 1,
) -> None:
    """Serve the API and console on an existing database. With SQLite and no Redis, jobs
    run in this process too.\n\nExample: pappus serve --port 8080"""
    _logging()
    _serve(host, port, workers)


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8100,
    seed: Annotated[int, typer.Option(help="The world's seed: same seed, same world")] = 2026,
    accounts: Annotated[int, typer.Option(min=1, help="Accounts in the world")] = 5_000,
    fraud_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of fraudulent creators")
    ] = 0.12,
    today: Annotated[
        str | None, typer.Option(help="The world's day, YYYY-MM-DD (default: today, UTC)")
    ] = None,
    client_secret: Annotated[
        str, typer.Option(envvar="PAPPUS_SANDBOX_CLIENT_SECRET", help="OAuth client secret")
    ] = "sandbox-client-secret",
    staff_key: Annotated[
        str, typer.Option(envvar="PAPPUS_SANDBOX_STAFF_KEY", help="Key for /staff endpoints")
    ] = "sandbox-staff-key",
    failure_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of API calls answered 503")
    ] = 0.0,
) -> None:
    """Serve the simulated social platform (its own OAuth server and REST API) that Pappus
    links creators to through the sandbox connector; see docs/sandbox.md.

    Example: pappus sandbox --port 8100 --seed 2026 --accounts 5000
    """
    from datetime import date

    import uvicorn

    from pappus.sandbox.app import config_from_options, create_sandbox_app

    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint="--today") from None
    config = config_from_options(
        seed,
        accounts,
        fraud_share,
        day,
        client_secret=client_secret,
        staff_key=staff_key,
        failure_rate=failure_rate,
    )
    _logging()
    typer.echo(
        f"sandbox platform: {accounts:,} accounts (seed {seed}) on http://{host}:{port}; "
        f"every account signs in with the password 'sandbox'"
    )
    uvicorn.run(create_sandbox_app(config), host=host, port=port, log_level="warning")


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    path: Annotated[Path, typer.Option(help="Demo database file (recreated)")] = Path(
        "pappus-demo.db"
    ),
    seed_only: Annotated[bool, typer.Option(help="Create the demo data, then exit")] = False,
    sandbox_port: Annotated[
        int, typer.Option(help="TCP port of the sandbox social platform it starts")
    ] = 8100,
) -> None:
    """Create a fresh demo database (a brand, creators, campaigns, orders in every state),
    start the sandbox social platform, link the demo creators' accounts on it through OAuth,
    print the logins and serve it all.\n\nExample: pappus demo --port 8000"""
    _logging("WARNING")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    jobs = path.with_name(path.stem + "-jobs.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{jobs}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    os.environ["PAPPUS_DATABASE_URL"] = url
    os.environ["PAPPUS_JOBS_SQLITE_PATH"] = str(jobs)
    os.environ.pop("PAPPUS_REDIS_URL", None)
    os.environ["PAPPUS_SANDBOX_URL"] = f"http://127.0.0.1:{sandbox_port}"
    # The OAuth callback is opened by a browser on this machine: 0.0.0.0 is not an address.
    browser_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    os.environ["PAPPUS_PUBLIC_URL"] = f"http://{browser_host}:{port}"
    from pappus.config import get_settings

    get_settings.cache_clear()
    from pappus.demo import CREATORS as DEMO_CREATORS
    from pappus.demo import (
        DEMO_PASSWORD,
        link_demo_creators,
        publish_verified_demo_order,
        seed_demo,
    )
    from pappus.migrate import upgrade
    from pappus.sandbox.app import SandboxConfig
    from pappus.sandbox.server import start_in_thread
    from pappus.sandbox.world import WorldSpec

    settings = get_settings()
    world = WorldSpec(seed=2026, accounts=5_000)
    try:
        sandbox = start_in_thread(
            SandboxConfig(
                spec=world,
                client_id=settings.sandbox_client_id,
                client_secret=settings.sandbox_client_secret,
            ),
            port=sandbox_port,
        )
    except RuntimeError as exc:
        raise typer.BadParameter(f"{exc}; pick another port", param_hint="--sandbox-port") from None
    upgrade(url)
    with typer.progressbar(length=100, label="Building the demo world") as bar:
        logins = seed_demo(url, progress=bar.update)
    with typer.progressbar(
        length=len(DEMO_CREATORS), label="Linking the creators on the sandbox"
    ) as bar:
        linked = link_demo_creators(url, world, progress=bar.update)
    verified_order = publish_verified_demo_order(url, world)
    typer.echo("")
    typer.echo(
        f"Sandbox social platform on {sandbox.url}: {len(linked)} demo creators linked by "
        "OAuth (accounts sign in there with the password 'sandbox'); order "
        f"{verified_order} was published there and verified through the connector"
    )
    typer.echo(f"Pappus demo on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    typer.echo(f"Every demo login uses the password: {DEMO_PASSWORD}")
    for role, email in logins:
        typer.echo(f"  {role:<22} {email}")
    typer.echo(
        f"\nTry: curl -s -X POST http://{host}:{port}/api/v1/auth/token "
        f"-d username={logins[0][1]} -d password={DEMO_PASSWORD}"
    )
    if seed_only:
        sandbox.stop()
        return
    _logging("INFO")
    _serve(host, port, 1)


@app.command()
def worker(
    workers: Annotated[int, typer.Option(help="Worker threads")] = 2,
) -> None:
    """Run background jobs and the periodic timer sweep (Huey). Run as many as you like, on
    any machines.\n\nExample: PAPPUS_REDIS_URL=redis://127.0.0.1:6379/0 pappus worker"""
    _logging()
    from pappus.jobs import huey, load_tasks

    load_tasks()
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.run()


@app.command()
def sweep() -> None:
    """Fire due order timers once and exit (what the worker does every minute).

    Example: pappus sweep
    """
    from pappus.jobs import database
    from pappus.orders.tasks import sweep_due_timers

    typer.echo(f"fired {sweep_due_timers(database())} timers")


@staff_app.command("create")
def create_staff(
    email: Annotated[str, typer.Argument(help="Staff login email")],
    role: Annotated[str, typer.Option(help="reviewer or admin")] = "reviewer",
    name: Annotated[str, typer.Option(help="Display name")] = "Pappus staff",
    password: Annotated[
        str | None, typer.Option(help="Read from PAPPUS_STAFF_PASSWORD or asked if omitted")
    ] = None,
) -> None:
    """Create a platform staff account.

    Example: pappus staff create ops@example.com --role admin
    """
    from pappus.accounts import service
    from pappus.errors import PappusError
    from pappus.jobs import database

    secret = password or os.environ.get("PAPPUS_STAFF_PASSWORD") or getpass.getpass("Password: ")
    if len(secret) < 10:
        raise typer.BadParameter("the password needs at least 10 characters")
    try:
        with database().unit_of_work() as session:
            user = service.create_staff(
                session, email=email, password=secret, display_name=name, role=role
            )
            user_id = user.id
    except PappusError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created staff {role} {email} ({user_id})")


@workflow_app.command("diagram")
def workflow_diagram() -> None:
    """Print the order state diagram (Mermaid), generated from the transition table.

    Example: pappus workflow diagram > states.mmd
    """
    from pappus.orders.workflow import mermaid

    typer.echo(mermaid(), nl=False)


@workflow_app.command("table")
def workflow_table() -> None:
    """Print the transition table.\n\nExample: pappus workflow table"""
    from pappus.orders.workflow import TRANSITIONS

    typer.echo(f"{'action':<16} {'actor':<8} {'from':<48} {'to':<18} {'guard / timer'}")
    for t in TRANSITIONS:
        sources = ",".join(sorted(t.sources))
        extra = " ".join(x for x in (t.guard or "", f"timer={t.timer}" if t.timer else "") if x)
        typer.echo(f"{t.action:<16} {t.actor:<8} {sources:<48} {t.target:<18} {extra}")


@ledger_app.command("check")
def ledger_check(
    show_all: Annotated[
        bool, typer.Option("--all", help="Print every violation, not only the first")
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the result as JSON (the exit code is the same)"),
    ] = False,
) -> None:
    """Verify every ledger invariant; exit 1 naming the first violation.

    Example: PAPPUS_DATABASE_URL=sqlite:///pappus-demo.db pappus ledger check --all
    """
    import json
    import time

    from pappus.jobs import database
    from pappus.ledger import service as ledger
    from pappus.ledger.check import Violation
    from pappus.orders import service as orders

    started = time.perf_counter()
    # One snapshot: an order finishing while the check runs must not look like a finished
    # order whose escrow still holds money.
    with database().snapshot() as session:
        violations = ledger.check_invariants(
            session, lambda order_ids: orders.finished_among(session, order_ids)
        )
        violations += [Violation("fee_mismatch", p) for p in orders.settlement_violations(session)]
        accounts, transfers = ledger.book_size(session)
    seconds = time.perf_counter() - started
    if as_json:
        result = {
            "ok": not violations,
            "accounts": accounts,
            "transfers": transfers,
            "seconds": round(seconds, 3),
            "violations": [{"rule": v.rule, "detail": v.detail} for v in violations],
        }
        typer.echo(json.dumps(result, indent=2))
    elif violations:
        for v in violations if show_all else violations[:1]:
            typer.echo(f"VIOLATION {v.rule}: {v.detail}", err=True)
        if len(violations) > 1 and not show_all:
            typer.echo(f"... and {len(violations) - 1} more (--all lists them)", err=True)
    else:
        typer.echo(
            f"ledger ok: {accounts:,} accounts, {transfers:,} transfers, every invariant "
            f"holds ({seconds:.1f} s)"
        )
    if violations:
        raise typer.Exit(1)


@vet_app.command("followers")
def vet_followers(
    file: Annotated[
        Path, typer.Argument(help="JSON lines: one follower profile per line; '-' for stdin")
    ],
    batch: Annotated[int, typer.Option(help="Profiles scored at once", min=1)] = 1000,
) -> None:
    """Score follower profiles: one JSON object per line in (username, followers, following,
    posts, has_profile_pic, is_private, bio_length, optional full_name, has_external_url), one
    JSON line out per profile with probability_fake, fake and reasons. A malformed line is
    reported on stderr with its number and the run exits 1 after the rest.

    Example: pappus vet followers sample.jsonl > scores.jsonl"""
    import json
    import sys

    from pydantic import ValidationError

    from pappus.vetting.followers import score_followers, shipped_report
    from pappus.vetting.schemas import FollowerProfileIn

    threshold = float(shipped_report()["threshold"])

    handle = sys.stdin if str(file) == "-" else file.open(encoding="utf-8")
    bad = 0
    pending: list[FollowerProfileIn] = []

    def flush() -> None:
        for profile, score in zip(pending, score_followers(pending), strict=True):
            result = {
                "username": profile.username,
                "probability_fake": score.probability_fake,
                "fake": score.probability_fake >= threshold,
                "reasons": score.reasons,
            }
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        pending.clear()

    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                pending.append(FollowerProfileIn.model_validate_json(line))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "line"
                typer.echo(f"line {number}: {where}: {first['msg']}", err=True)
                bad += 1
                continue
            if len(pending) >= batch:
                flush()
        flush()
    if bad:
        raise typer.Exit(1)


@vet_app.command("train")
def vet_train(
    data: Annotated[
        Path, typer.Option(help="Folder with the fake-account dataset's train.csv and test.csv")
    ],
    out: Annotated[Path, typer.Option(help="Where the model and its report are written")] = Path(
        "src/pappus/vetting"
    ),
) -> None:
    """Train the follower-authenticity model and print its evaluation (test split, 5-fold
    cross-validation, sandbox followers). Writes follower_model.npz and follower_model.json.

    Example: pappus vet train --data ../shared/data/instagram-fake-accounts"""
    import json

    from pappus.vetting.train import train

    for name in ("train.csv", "test.csv"):
        if not (data / name).is_file():
            raise typer.BadParameter(f"{data / name} does not exist", param_hint="--data")
    report = train(data, out, progress=lambda step: typer.echo(f"... {step}", err=True))
    header = ("acc", "prec", "recall", "f1", "auc", "n")
    typer.echo(f"{'evaluation':<26} " + " ".join(f"{h:>6}" for h in header))
    for name in ("test_split", "cross_validation_5_fold", "sandbox_followers"):
        m = report[name]
        typer.echo(
            f"{name:<26} {m['accuracy']:>6.3f} {m['precision']:>6.3f} {m['recall']:>6.3f} "
            f"{m['f1']:>6.3f} {m['roc_auc']:>6.3f} {m['n']:>6}"
        )
    typer.echo(f"wrote {out / 'follower_model.npz'} ({report['nodes']:,} nodes)")
    typer.echo(json.dumps({"model": report["model"]}))


@app.command("sentiment")
def sentiment_command(
    file: Annotated[
        Path,
        typer.Argument(help="One text a line, or JSON lines with a 'text' field; '-' for stdin"),
    ],
    batch: Annotated[int, typer.Option(help="Texts classified at once", min=1)] = 1000,
) -> None:
    """Classify comments (Chinese or English) as positive, neutral or negative with the model
    shipped in the package. One JSON line out per line in, with `label` and `score` (the
    probability that the text is positive). A line that starts with '{' is read as JSON and
    must have a string 'text'; a malformed one is reported on stderr with its number, gets
    {"line": N, "error": ...} in its place, and the run exits 1 after the rest.

    Example: pappus sentiment comments.txt > sentiment.jsonl"""
    import json
    import sys

    from pappus.sentiment.model import classify_many

    handle = sys.stdin if str(file) == "-" else file.open(encoding="utf-8")
    bad = 0
    pending: list[tuple[int, str | None, str]] = []  # (line, text or None, error)

    def flush() -> None:
        texts = [text for _, text, _ in pending if text is not None]
        results = iter(classify_many(texts))
        for number, text, error in pending:
            if text is None:
                out: dict[str, object] = {"line": number, "error": error}
            else:
                result = next(results)
                out = {"label": result.label, "score": result.score}
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        pending.clear()

    with handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n").lstrip("\ufeff")
            if line.lstrip().startswith("{"):
                try:
                    value = json.loads(line)
                    text = value.get("text") if isinstance(value, dict) else None
                    if not isinstance(text, str):
                        raise ValueError("a JSON line needs a string 'text'")
                except ValueError as exc:
                    typer.echo(f"line {number}: {exc}", err=True)
                    pending.append((number, None, str(exc)))
                    bad += 1
                    continue
                pending.append((number, text, ""))
            else:
                pending.append((number, line, ""))
            if len(pending) >= batch:
                flush()
        flush()
    if bad:
        raise typer.Exit(1)


@app.command("sentiment-train")
def sentiment_train(
    data: Annotated[
        Path,
        typer.Option(help="Folder with ChnSentiCorp_htl_all.csv and online_shopping_10_cats.csv"),
    ],
    out: Annotated[Path, typer.Option(help="Where model.npz and model_card.json go")] = Path(
        "src/pappus/sentiment"
    ),
    seed: Annotated[int, typer.Option(help="The split's seed")] = 2026,
) -> None:
    """Retrain the comment-sentiment model (de-duplicated, hotels held out as the unseen
    domain) and print its evaluation; progress goes to stderr.

    Example: pappus sentiment-train --data ../shared/data/sentiment-zh"""
    from pappus.sentiment.train import main as train_main

    raise typer.Exit(train_main(["--data", str(data), "--out", str(out), "--seed", str(seed)]))


if __name__ == "__main__":
    app()


@compliance_app.command("check")
def compliance_check(
    file: Annotated[Path, typer.Argument(help="JSON lines: one post per line; '-' for stdin")],
    pack: Annotated[
        list[Path] | None,
        typer.Option(help="A rule pack YAML (a new version or a new pack); repeatable"),
    ] = None,
) -> None:
    """Check posts against the shipped rule packs: one JSON object per line in (text, optional
    title, hashtags, platform, jurisdiction, category, sponsored (default true), brand, and an
    id that is copied to the output), one JSON line out per post with findings (rule_id, kind,
    severity, field, start, end, match, message, reference, suggestion), the packs used and
    the counts. A malformed line gets {"line", "error"} in its place, and the run exits 1.
    Exits 0 otherwise, whatever was found.

    Example: pappus compliance check drafts.jsonl --pack my-pack.yaml > findings.jsonl"""
    import json
    import sys

    import yaml
    from pydantic import ValidationError

    from pappus.compliance.packs import RulePack
    from pappus.compliance.schemas import CheckRequest
    from pappus.compliance.service import check_offline, result_record
    from pappus.kit.clock import now

    extra: list[RulePack] = []
    for path in pack or []:
        try:
            extra.append(RulePack.model_validate(yaml.safe_load(path.read_text("utf-8"))))
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            typer.echo(f"{path}: not a valid rule pack: {exc}", err=True)
            raise typer.Exit(2) from None
    handle = sys.stdin if str(file) == "-" else file.open(encoding="utf-8")
    bad = 0
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                if not isinstance(raw, dict):
                    raise ValueError("each line must be a JSON object")
                line_id = raw.pop("id", None)
                body = CheckRequest.model_validate(raw)
            except (ValueError, ValidationError) as exc:
                if isinstance(exc, ValidationError):
                    first = exc.errors()[0]
                    where = ".".join(str(p) for p in first["loc"]) or "line"
                    message = f"{where}: {first['msg']}"
                else:
                    message = str(exc)
                typer.echo(f"line {number}: {message}", err=True)
                sys.stdout.write(json.dumps({"line": number, "error": message}) + "\n")
                bad += 1
                continue
            record = result_record(check_offline(body.to_post(), extra), now())
            if line_id is not None:
                record = {"id": line_id, **record}
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    if bad:
        raise typer.Exit(1)


@compliance_app.command("packs")
def compliance_packs() -> None:
    """List the shipped rule packs: id, version, jurisdiction, dates and rule count. Staff add
    later versions through POST /api/v1/compliance/packs.

    Example: pappus compliance packs"""
    from pappus.compliance.packs import shipped_packs

    for p in shipped_packs():
        until = p.effective_until.isoformat() if p.effective_until else "-"
        typer.echo(
            f"{p.key:32} {p.jurisdiction}  from {p.effective_from}  until {until:10}  "
            f"{len(p.rules):3} rules  {p.title}"
        )


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit trail's hash chain from its first entry. Exits 0 when every entry
    is intact, 1 naming the first edited, deleted or reordered entry (or entries deleted
    from the end). Reads PAPPUS_DATABASE_URL.

    Example: PAPPUS_DATABASE_URL=sqlite:///pappus-demo.db pappus audit verify"""
    from pappus.audit import service as audit
    from pappus.jobs import database

    with database().unit_of_work(write=False) as session:
        result = audit.verify(session)
    if result.ok:
        waiting = f"; {result.unsealed} newer entries wait to be sealed" if result.unsealed else ""
        typer.echo(f"ok: {result.entries} entries, the chain is intact{waiting}")
        return
    typer.echo(f"FAILED after {result.entries} good entries: {result.problem}", err=True)
    raise typer.Exit(1)


@app.command("outbox")
def outbox_command(
    to: Annotated[str | None, typer.Option(help="Only messages to this address")] = None,
    status: Annotated[
        str | None, typer.Option(help="queued, sending, sent, held or failed")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=1000, help="Newest first, at most this many")
    ] = 20,
) -> None:
    """Show the messages Pappus sent or holds (verification codes). Without PAPPUS_SMTP_URL
    nothing leaves the machine: messages are `held` here, bodies included, so whoever runs
    the installation can pass a code on. Reads PAPPUS_DATABASE_URL.

    Example: PAPPUS_DATABASE_URL=sqlite:///pappus-demo.db pappus outbox --to lin@example.com"""
    from pappus.jobs import database
    from pappus.messaging import service as messaging

    with database().unit_of_work(write=False) as session:
        found = messaging.outbox(session, recipient=to, status=status, limit=limit)
        if not found:
            typer.echo("no messages")
            return
        for message in found:
            typer.echo(
                f"{message.created_at:%Y-%m-%d %H:%M:%S}  {message.status:7}  {message.id}  "
                f"to {message.recipient}  ({message.purpose}, {message.attempts} attempts)"
            )
            typer.echo(f"  Subject: {message.subject}")
            if message.last_error:
                typer.echo(f"  Last error: {message.last_error}")
            if message.body:
                for line in message.body.rstrip().splitlines():
                    typer.echo(f"  | {line}")
