"""Training against scheming: deliberative alignment and model organisms.

Deliberative alignment (`train_loop`): rollouts of the training family with the anti-scheming
spec in context -> keep the right action for the right reason (`select_deliberative`) -> chat
datasets with the spec removed (`write_dataset`) -> LoRA SFT with TRL + PEFT (`sft`) -> outcome-only
GRPO (`grpo`) -> evaluation on held-out environments (`evaluate`, `stage_summary`). A model
organism (scripted covert rollouts -> SFT) can be built first, so the loop runs on a model that
really misbehaves. Checkpoints are HF folders plus a GGUF copy the local provider loads.
"""

from ._checkpoints import Checkpoint, base_checkpoint, export_gguf
from ._data import (
    TRAINING_FAMILY,
    Selection,
    desirable_outcome,
    generate_rollouts,
    select_deliberative,
    select_outcome,
    write_dataset,
)
from ._evaluate import compare_stages, evaluate, evaluation_tasks, grader_rates, stage_summary
from ._pipeline import ORGANISM_FAMILIES, PROFILES, Profile, profile_named, train_loop
from ._render import ChatFormat, chat_format, hf_record, openai_record, training_example, training_messages
from ._rl import GRPOSettings, RewardWeights, decision_point, grpo, outcome_signals, reward, score_completion
from ._sft import LoraSettings, sft

__all__ = [
    "ORGANISM_FAMILIES",
    "PROFILES",
    "TRAINING_FAMILY",
    "ChatFormat",
    "Checkpoint",
    "GRPOSettings",
    "LoraSettings",
    "Profile",
    "RewardWeights",
    "Selection",
    "base_checkpoint",
    "chat_format",
    "compare_stages",
    "decision_point",
    "desirable_outcome",
    "evaluate",
    "evaluation_tasks",
    "export_gguf",
    "generate_rollouts",
    "grader_rates",
    "grpo",
    "hf_record",
    "openai_record",
    "outcome_signals",
    "profile_named",
    "reward",
    "score_completion",
    "select_deliberative",
    "select_outcome",
    "sft",
    "stage_summary",
    "train_loop",
    "training_example",
    "training_messages",
    "write_dataset",
]
