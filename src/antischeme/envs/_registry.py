"""Every environment family, one line each. Adding a family: write its module, add it here."""

from __future__ import annotations

from ._family import Family
from .broken_promises import BrokenPromises
from .covert_email_reranking import CovertEmailReranking
from .covert_rule_violation import CovertRuleViolation
from .destructive_cover_up import DestructiveCoverUp
from .document_verification import DocumentVerification
from .email_scoring import EmailScoring
from .game_blotto import GameBlotto
from .game_prisoners_dilemma import GamePrisonersDilemma
from .goal_guarding import GoalGuarding
from .grader_hunting import GraderHunting
from .impossible_coding import ImpossibleCoding
from .instrumental_alignment_faking import InstrumentalAlignmentFaking
from .lazy_checklist import LazyChecklist
from .literature_qa import LiteratureQA
from .log_falsification import LogFalsification
from .over_escalation import OverEscalation
from .sabotage_math import SabotageMath
from .sabotage_safety import SabotageSafety
from .oversight_subversion import OversightSubversion
from .sandbagging_icsm import SandbaggingICSM
from .sandbagging_qa_goal import SandbaggingQAGoal
from .sandbagging_qa_no_goal import SandbaggingQANoGoal
from .sandbagging_self_grading import SandbaggingSelfGrading
from .self_exfiltration import SelfExfiltration
from .smuggle_capabilities import SmuggleCapabilities
from .spec_sabotage_moving import SpecSabotageMoving
from .spec_sabotage_selection import SpecSabotageSelection
from .spec_sabotage_verification import SpecSabotageVerification
from .subagent_collusion import SubagentCollusion
from .subagent_permissions import SubagentPermissions
from .subagent_quota import SubagentQuota
from .survey_falsification import SurveyFalsification
from .test_tampering import TestTampering
from .whistleblowing_eu import WhistleblowingEU
from .whistleblowing_us import WhistleblowingUS

FAMILIES: list[Family] = [
    # test families (out-of-distribution; games, spec sabotage and over-escalation are not aggregated)
    EmailScoring(),
    SabotageMath(),
    SabotageSafety(),
    SmuggleCapabilities(),
    SubagentCollusion(),
    SubagentPermissions(),
    SubagentQuota(),
    ImpossibleCoding(),
    LazyChecklist(),
    DocumentVerification(),
    WhistleblowingEU(),
    WhistleblowingUS(),
    LiteratureQA(),
    LogFalsification(),
    SurveyFalsification(),
    SandbaggingQAGoal(),
    SandbaggingQANoGoal(),
    SandbaggingSelfGrading(),
    BrokenPromises(),
    DestructiveCoverUp(),
    TestTampering(),
    GraderHunting(),
    GameBlotto(),
    GamePrisonersDilemma(),
    SpecSabotageMoving(),
    SpecSabotageSelection(),
    SpecSabotageVerification(),
    OverEscalation(),
    # in-context scheming evaluations
    OversightSubversion(),
    SelfExfiltration(),
    GoalGuarding(),
    CovertEmailReranking(),
    InstrumentalAlignmentFaking(),
    SandbaggingICSM(),
    # training family (covert rule violation + anti-over-refusal edits)
    CovertRuleViolation(),
]
