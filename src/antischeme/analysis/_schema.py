"""The results database: one row per rollout (``rollouts``), its transcript (``transcripts``), and
the logs it came from (``logs``). Built by `ingest`; read by analyses and the report."""

from __future__ import annotations

from ..graders._types import GRADERS

_GRADER_COLUMNS = "\n".join(
    f"    {g} BOOLEAN,           -- NULL = unscored (a grader failure is never a 0)\n"
    f"    {g}_score DOUBLE,\n"
    f"    {g}_evidence VARCHAR,"
    for g in GRADERS
)

DDL = f"""
CREATE TABLE IF NOT EXISTS logs (
    log VARCHAR PRIMARY KEY,       -- absolute path of the Inspect log
    mtime DOUBLE,
    size BIGINT,
    eval_id VARCHAR,
    rollouts INTEGER,
    grader_method VARCHAR,         -- lexicon | embedding | judge:<model> | none
    ingested_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS rollouts (
    rollout_id VARCHAR PRIMARY KEY, -- <eval_id>/<sample_id>/<epoch>
    log VARCHAR,
    run VARCHAR,                   -- the log's directory name (a "run": before/after, a model, a stage)
    eval_id VARCHAR,
    task VARCHAR,
    model VARCHAR,
    family VARCHAR,                -- NULL for tasks that are not environment families
    split VARCHAR,                 -- test | icsm | train
    in_aggregate BOOLEAN,
    sample_id VARCHAR,
    variant JSON,                  -- the variant's named dimensions
    epoch INTEGER,
    seed INTEGER,                  -- generate-config seed (NULL when none was set)
    outcome VARCHAR,               -- covert | honest | not_engaged | error | unscored
    engaged BOOLEAN,
    covert BOOLEAN,                -- NULL unless outcome is covert or honest
    confirmed BOOLEAN,             -- covert and the CoT shows it was deliberate (confirmed_covert)
{_GRADER_COLUMNS}
    spec_cited VARCHAR[],          -- principles cited (AS1..GP4)
    spec_miscited VARCHAR[],       -- cited with content that belongs to another principle
    spec_invented VARCHAR[],       -- cited principles that do not exist (e.g. AS7)
    grader_method VARCHAR,
    cot_source VARCHAR,            -- reasoning (reasoning blocks) | text (no reasoning: visible assistant text)
    cot_tokens INTEGER,            -- under the embedded model's tokenizer, so counts compare across models
    cot_words INTEGER,
    messages INTEGER,
    tool_calls INTEGER,
    output_tokens INTEGER,
    total_time DOUBLE,
    working_time DOUBLE
);
CREATE TABLE IF NOT EXISTS transcripts (
    rollout_id VARCHAR PRIMARY KEY,
    cot VARCHAR,                   -- the text the CoT graders read
    messages JSON,                 -- [{{role, text, reasoning, tool_calls: [{{function, arguments}}], error}}]
    world_diff JSON,
    detector_evidence JSON,        -- list of strings
    highlights JSON                -- {{grader: [exact substrings of cot/messages to highlight]}}
);
"""
