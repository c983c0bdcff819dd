"""Alembic environment: the URL comes from agent_workspace.config, the schema from models."""

from alembic import context
from sqlmodel import SQLModel

import agent_workspace.models  # noqa: F401  (registers the tables)
from agent_workspace.config import database_url
from agent_workspace.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or database_url()
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=url.startswith("sqlite"),
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
