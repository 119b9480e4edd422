import json

import pytest
from click.testing import CliRunner
from helpers import new_item, new_round, people
from ledger_fixture import ledger_with_flags

from engine.cli import main
from engine.ledger.xlsx.importing import apply_import
from engine.store.models import IMMEDIATE


@pytest.fixture
def cast(engine):
    """The engine with the demo people (helpers.people)."""
    people(engine)
    return engine


@pytest.fixture
def staffed_round(cast):
    """The engine with the demo people and an empty round, 测试轮次 (helpers.new_round)."""
    new_round(cast)
    return cast


@pytest.fixture
def imported(staffed_round):
    """The demo people and 测试轮次 holding the 25-problem, 8-aspect ledger (ledger_fixture.ledger_with_flags)."""
    apply_import(staffed_round, "测试轮次", ledger_with_flags())
    return staffed_round


@pytest.fixture
def item(staffed_round):
    """An 立行立改 item with the demo cast, its path started."""
    return new_item(staffed_round, IMMEDIATE)


@pytest.fixture
def cli(tmp_path):
    """`rectify …` on a SQLite database of its own: cli(*args, ok=True) runs a command (and, with ok,
    requires exit code 0), cli.json(*args) its --json output; never a traceback."""
    env = {"RECTIFY_DATABASE_URL": f"sqlite:///{tmp_path / 'rectify.db'}", "RECTIFY_INSTANCE_PATH": str(tmp_path / "instance")}
    runner = CliRunner(env=env)

    def run(*args, ok=True):
        result = runner.invoke(main, [str(a) for a in args])
        assert "Traceback" not in result.output
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def run_json(*args):
        return json.loads(run(*args, "--json").output)

    run.json = run_json
    run.env = env
    return run
