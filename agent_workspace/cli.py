"""``agent-workspace``: the administrator's command line (database, users, queues, knowledge base)."""

from __future__ import annotations

import argparse
import sys

from sqlmodel import select

from agent_workspace.config import database_url
from agent_workspace.db import session_scope
from agent_workspace.kb_cli import add_kb_commands
from agent_workspace.migrations import upgrade
from agent_workspace.models import Queue, stored_id, utcnow
from agent_workspace.services import auth, routing, seed
from agent_workspace.services import hours as business_hours
from agent_workspace.services.errors import NotFound, ServiceError


def _db_upgrade(_args: argparse.Namespace) -> int:
    upgrade()
    print(f"Database is at the newest schema ({_redacted(database_url())}).")
    return 0


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def _seed(args: argparse.Namespace) -> int:
    with session_scope() as session:
        created = seed.seed_demo(session)
    if created:
        print("Seeded demo data.")
    else:
        print("The database already has data; nothing seeded.")
    if created or args.print_logins:
        print_demo_logins()
    return 0


def print_demo_logins() -> None:
    print("Demo logins (username / password / roles):")
    for login in seed.demo_logins():
        print(f"  {login.username:<6} {login.password:<16} {login.roles:<32} {login.note}")


def _user_create(args: argparse.Namespace) -> int:
    with session_scope() as session:
        user = auth.create_user(
            session,
            username=args.username,
            password=args.password,
            display_name=args.display_name,
            email=args.email or "",
            roles=args.role or [],
            capacity=args.capacity,
            queues=args.queue or [],
        )
    print(f"Created user {user.username} (roles: {user.roles or 'none'}, capacity {user.capacity}).")
    return 0


def _user_set_password(args: argparse.Namespace) -> int:
    with session_scope() as session:
        auth.set_password(session, username=args.username, password=args.password)
    print(f"Password changed for {args.username}; their open sessions were signed out.")
    return 0


def _user_deactivate(args: argparse.Namespace) -> int:
    with session_scope() as session:
        auth.deactivate(session, username=args.username)
    print(f"{args.username} is deactivated; their open sessions were signed out.")
    return 0


def _user_set_roles(args: argparse.Namespace) -> int:
    with session_scope() as session:
        ended = auth.set_roles(session, username=args.username, roles=args.role or [])
    print(
        f"Roles of {args.username}: {', '.join(sorted(args.role or [])) or 'none'}."
        + (" Their open tabs were signed out." if ended else "")
    )
    return 0


def _queue_create(args: argparse.Namespace) -> int:
    with session_scope() as session:
        queue = routing.create_queue(session, name=args.name, description=args.description)
    print(f"Created queue {queue.name!r} (id {queue.id}).")
    return 0


def _queue_hours(args: argparse.Namespace) -> int:
    """Change only the options given (then print the result); with none, just print."""
    given = {
        "weekly_hours": args.weekly,
        "time_zone": args.time_zone,
        "closures": args.closures,
        "closed_message": args.message,
    }
    changing = any(value is not None for value in given.values())
    with session_scope(writer=changing) as session:
        queue = session.exec(select(Queue).where(Queue.name == args.name)).first()
        if queue is None:
            raise NotFound(f"No queue named {args.name!r}.")
        if changing:
            current = {name: getattr(queue, name) for name in given}
            business_hours.set_hours(
                session,
                queue_id=stored_id(queue),
                **{name: current[name] if value is None else value for name, value in given.items()},
                actor_id=None,
            )
            print(f"Business hours of {queue.name!r} saved.")
        hours, now = business_hours.hours_of(queue), utcnow()
        print(business_hours.describe(hours))
        opening = business_hours.next_opening(hours, now)
        if opening is not None:
            print(
                f"Closed now; opens {business_hours.opening_text(hours, opening, now)} ({opening:%Y-%m-%d %H:%M} UTC)."
            )
        elif business_hours.is_open(hours, now):
            print("Open now.")
        else:
            print(f"Closed now; it does not open within {business_hours.HORIZON_DAYS} days.")
        if queue.closed_message:
            print(f"Out-of-hours message: {queue.closed_message}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agent-workspace", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations up to the newest schema").set_defaults(func=_db_upgrade)

    seed_cmd = commands.add_parser("seed", help="load demo data into an empty database")
    seed_cmd.add_argument(
        "--print-logins", action="store_true", help="print the demo logins even if nothing was seeded"
    )
    seed_cmd.set_defaults(func=_seed)

    user = commands.add_parser("user", help="accounts").add_subparsers(dest="user_command", required=True)
    create = user.add_parser("create", help="create an account")
    create.add_argument("--username", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--display-name")
    create.add_argument("--email")
    create.add_argument("--role", action="append", help="workspace_user, supervisor or admin; repeat for several")
    create.add_argument("--capacity", type=int, default=4, help="concurrent chats (default 4)")
    create.add_argument("--queue", action="append", help="queue name the agent works; repeat for several")
    create.set_defaults(func=_user_create)
    set_password = user.add_parser("set-password", help="change a password and sign the user out everywhere")
    set_password.add_argument("--username", required=True)
    set_password.add_argument("--password", required=True)
    set_password.set_defaults(func=_user_set_password)
    deactivate = user.add_parser("deactivate", help="stop an account signing in and sign it out everywhere")
    deactivate.add_argument("--username", required=True)
    deactivate.set_defaults(func=_user_deactivate)
    set_roles = user.add_parser(
        "set-roles", help="give an account exactly these roles (losing one signs it out everywhere)"
    )
    set_roles.add_argument("--username", required=True)
    set_roles.add_argument(
        "--role", action="append", help="workspace_user, supervisor or admin; repeat for several; none for no role"
    )
    set_roles.set_defaults(func=_user_set_roles)

    queue = commands.add_parser("queue", help="chat queues").add_subparsers(dest="queue_command", required=True)
    queue_create = queue.add_parser("create", help="create a queue")
    queue_create.add_argument("--name", required=True)
    queue_create.add_argument("--description", default="")
    queue_create.set_defaults(func=_queue_create)
    queue_hours = queue.add_parser("hours", help="show or set a queue's business hours (only the options given change)")
    queue_hours.add_argument("--name", required=True)
    queue_hours.add_argument(
        "--weekly", help='e.g. "Mon-Fri 09:00-17:00; Sat 10:00-14:00"; "" is open around the clock'
    )
    queue_hours.add_argument("--time-zone", help="IANA name, e.g. Europe/Berlin")
    queue_hours.add_argument("--closures", help='whole days, e.g. "2026-12-24, 2026-12-31..2027-01-01"')
    queue_hours.add_argument("--message", help="what customers read while the queue is closed")
    queue_hours.set_defaults(func=_queue_hours)

    add_kb_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        code = 2
    sys.exit(code)


if __name__ == "__main__":
    main()
