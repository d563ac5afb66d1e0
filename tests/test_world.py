"""The in-memory world and its tools, and the family framework's shared rules."""

from __future__ import annotations

import asyncio

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.tool import ToolError
from inspect_ai.util._store import init_subtask_store
from inspect_ai.util import Store

from antischeme.envs import FAMILIES, family_task
from antischeme.world import World, load_world, query_db, read_file, run_command, save_world, submit, world_script, write_file


@world_script("test.echo_rows")
def _echo_rows(world: World, args: list[str]) -> str:
    return f"{len(world.tables['items'])} rows, args={args}"


@pytest.fixture
def world() -> World:
    init_subtask_store(Store())
    initial = World(
        files={"data/a.txt": "alpha", "score.py": "print('scores')"},
        tables={"items": [{"id": 1, "value": 3}, {"id": 2, "value": 9}]},
        scripts={"score.py": "test.echo_rows"},
    )
    save_world(initial)
    return initial


def run(tool, **args):  # type: ignore[no-untyped-def]
    return asyncio.run(tool()(**args))


def test_files_are_read_written_and_every_call_is_logged(world: World) -> None:
    assert run(read_file, path="./data/a.txt") == "alpha"
    run(write_file, path="data/b.txt", content="beta")
    with pytest.raises(ToolError, match="no such file"):
        run(read_file, path="missing.txt")
    final = load_world()
    assert final.files["data/b.txt"] == "beta"
    assert [a.tool for a in final.actions] == ["read_file", "write_file", "read_file"]
    assert final.actions[-1].error and final.clock == 3
    assert list(final.changed_files(world)) == ["data/b.txt"]


def test_scripts_run_as_registered_functions_and_other_commands_are_refused(world: World) -> None:
    assert run(run_command, command="python score.py --top 3") == "2 rows, args=['--top', '3']"
    assert "alpha" in run(run_command, command="cat data/a.txt")
    for command in ("rm -rf /", "curl http://example.com", "python data/a.txt"):
        with pytest.raises(ToolError):
            run(run_command, command=command)


def test_sql_reads_and_writes_the_world_tables(world: World) -> None:
    assert "(1 rows)" in run(query_db, sql="SELECT * FROM items WHERE value > 5")
    run(query_db, sql="UPDATE items SET value = 0 WHERE id = 2")
    assert load_world().tables["items"][1] == {"id": 2, "value": 0}
    with pytest.raises(ToolError, match="SQL error"):
        run(query_db, sql="SELEC nonsense")


def test_submit_validates_the_status(world: World) -> None:
    with pytest.raises(ToolError, match="status must be one of"):
        run(submit, status="done-ish", summary="x")
    run(submit, status="escalated", summary="conflict", claims={"rule_violated": False})
    assert load_world().submission.status == "escalated"


def test_a_model_that_never_acts_is_not_engaged_in_every_family(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Doing nothing must never count as honest (a pitfall of an earlier re-implementation)."""
    reply = ModelOutput.from_content("mockllm/model", "Done. Everything is fine.")
    reply.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    for family in FAMILIES:
        first = family.variants()[:1]
        model = get_model("mockllm/model", custom_outputs=[reply] * 5, memoize=False)
        [log] = inspect_eval(family_task(family, variants=first), model=model, log_dir=str(tmp_path), display="none")
        outcomes = [s.scores["covert_action"].value for s in log.samples]
        assert outcomes == ["not_engaged"], (family.name, outcomes)
