"""The `onward` command (typer): development tokens, running processes, the local stack and the demo."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

import typer

from onward.auth import issue_token
from onward.settings import Settings

app = typer.Typer(help="Onward: Year 13 leavers from school to LA to the National Careers Service.",
                  no_args_is_help=True)
stack_app = typer.Typer(help="The three services in the background (used by make up / make down).")
app.add_typer(stack_app, name="stack")

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5544/postgres"


def _pg_url() -> str:
    return os.environ.get("ONWARD_PG_URL", DEFAULT_PG)


@app.command()
def token(role: str = typer.Option(..., help="school, la_staff, ncs_adviser or admin"),
          laestab: str = typer.Option(None, help="school scope: 7-digit LAESTAB"),
          la: str = typer.Option(None, help="LA staff scope: DfE 3-digit LA code"),
          ncs_area: str = typer.Option(None, "--ncs-area", help="adviser scope: region name, e.g. 'East Midlands'"),
          sub: str = typer.Option(None, help="subject (user id); defaults to dev-<role>"),
          ttl: int = typer.Option(8 * 3600, help="lifetime in seconds")) -> None:
    """Print a development bearer token signed with ONWARD_JWT_SECRET (the services' secret)."""
    s = Settings()
    if not 0 < ttl <= s.token_max_ttl_seconds:
        raise typer.BadParameter(f"--ttl must be 1 to {s.token_max_ttl_seconds} seconds (ONWARD_TOKEN_MAX_TTL_SECONDS)")
    try:
        typer.echo(issue_token(s.jwt_secret.get_secret_value(), role=role, sub=sub, laestab=laestab, la=la,
                               ncs_area=ncs_area, ttl_seconds=ttl, issuer=s.jwt_issuer))
    except Exception as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command()
def serve(service: str, process: str, port: int = typer.Option(None),
          host: str = typer.Option("127.0.0.1", help="API bind address (0.0.0.0 in a container)")) -> None:
    """Run one process of a service in the foreground: api, worker or relay."""
    from onward.processes import serve as run

    settings = Settings()
    try:
        settings.check_bind(host)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    run(service, process, settings, port, host)


@app.command()
def prepare() -> None:
    """Create the databases, apply migrations and create the Kafka topics."""
    from onward.processes import prepare as run

    s = Settings()
    urls = asyncio.run(run(_pg_url(), s.kafka_bootstrap_servers, s.topic_partitions,
                           replication=s.topic_replication))
    typer.echo("prepared: " + ", ".join(urls))


@app.command()
def migrate(service: str) -> None:
    """Apply one service's migrations to DATABASE_URL (its database exists): re-runnable, under an advisory
    lock, and refused if an applied migration file was edited since (Kubernetes runs it as an init container)."""
    from onward.db import migrate as run
    from onward.processes import SERVICES

    applied = asyncio.run(run(Settings().database_url, SERVICES[service].migrations))
    typer.echo(f"{service}: applied {', '.join(applied) if applied else 'nothing (schema current)'}")


@app.command()
def schemas() -> None:
    """Write the JSON Schema of every topic and the AsyncAPI document (schemas/json, schemas/asyncapi.json)."""
    from schemas.contract import write

    for path in write():
        typer.echo(f"wrote {path}")


def _stack():
    from onward.db import service_url
    from onward.processes import SERVICES
    from onward.stack import Stack

    s = Settings()
    # Each service connects as its own role (onward/db.py), never as the administrator of ONWARD_PG_URL.
    return Stack(Path(s.run_dir).resolve(), {n: service_url(_pg_url(), v.database()) for n, v in SERVICES.items()},
                 s.kafka_bootstrap_servers, worker_replicas=s.worker_replicas)


@stack_app.command("up")
def stack_up() -> None:
    """Prepare, start every process and wait until each API answers /readyz."""
    prepare()
    st = _stack()
    try:
        st.up()
    except RuntimeError as exc:
        typer.echo(f"stack failed to start: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo("ready: school_exit http://127.0.0.1:8001  la_tracker http://127.0.0.1:8002  "
               "ncs_referral http://127.0.0.1:8003  (API docs at /docs)")


@stack_app.command("down")
def stack_down() -> None:
    """Stop every process `stack up` started."""
    _stack().down()
    typer.echo("services stopped")


@app.command()
def demo(size: int = typer.Option(12), seed: int = typer.Option(None, help="repeat a run's cohort"),
         wait: float = typer.Option(20.0)) -> None:
    """Submit a synthetic Year 13 cohort to the running stack and print where each leaver went."""
    import time

    from onward.demo import run_demo

    # New young people each run by default: a fixed cohort would resubmit the same people on a kept database.
    seed = seed if seed is not None else int(time.time())
    typer.echo(f"cohort seed {seed}")
    raise typer.Exit(run_demo(size, seed, wait))


@app.command()
def purge(service: str) -> None:
    """Apply a service's retention rules now (the workers also do it every ONWARD_PURGE_INTERVAL_SECONDS)."""
    import importlib
    from datetime import datetime, timezone

    import asyncpg

    from onward.retention import purge as run

    rules = importlib.import_module(f"services.{service}.retention").RULES

    async def go() -> dict:
        conn = await asyncpg.connect(Settings().database_url)
        try:
            return await run(conn, rules, datetime.now(timezone.utc))
        finally:
            await conn.close()
    for record, n in asyncio.run(go()).items():
        typer.echo(f"{n:>8}  {record}")


@app.command("kafka-acls")
def kafka_acls(args: bool = typer.Option(False, "--args", help="only the arguments, one AclCommand per line")) -> None:
    """The deny-by-default ACLs each service needs, as kafka-acls commands (derived from the topic registry)."""
    from onward.kafka_security import acl_arguments

    for line in acl_arguments():
        typer.echo(" ".join(line) if args else
                   "kafka-acls.sh --bootstrap-server $KAFKA --command-config admin.properties " + " ".join(line))


dlq_app = typer.Typer(help="Dead-letter topics: what is there and why; replay after a fix.")
app.add_typer(dlq_app, name="dlq")


@dlq_app.command("show")
def dlq_show(topic: str) -> None:
    """One line per dead-lettered record: source, consumer, reason (never the payload)."""
    from onward.dlq import show

    letters = asyncio.run(show(Settings().kafka_bootstrap_servers, topic))
    for d in letters:
        typer.echo(f"{d.partition}:{d.offset}\t{d.source}\t{d.consumer}\t{d.reason}")
    typer.echo(f"{len(letters)} record(s) in {topic}")


@dlq_app.command("replay")
def dlq_replay(topic: str, reason: str = typer.Option(None, help="only records whose reason contains this")) -> None:
    """Republish records to the topic they came from (consumers skip events already applied)."""
    from onward.dlq import replay

    n = asyncio.run(replay(Settings().kafka_bootstrap_servers, topic, reason))
    typer.echo(f"replayed {n} record(s) from {topic}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
