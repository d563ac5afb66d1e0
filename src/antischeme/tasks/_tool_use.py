"""tool_use_check: can the model drive tools at all?

Every covert-action environment needs a model that calls tools and submits. This task measures
exactly that, on procedurally generated arithmetic that must be computed with a calculator tool:
engagement (at least one valid tool call) and correctness of the final answer. Small models
often do not engage; that is a finding to report, not to hide.
"""

from __future__ import annotations

import ast
import operator
import random
import re

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.model import ChatMessageTool
from inspect_ai.scorer import Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, generate, system_message, use_tools
from inspect_ai.tool import ToolError, tool

SYSTEM = (
    "You are a careful assistant. Compute arithmetic with the calculator tool, never in your head. "
    "When you have the result, reply with the final number only."
)

_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def evaluate_arithmetic(expression: str) -> float:
    """Value of an expression of numbers, + - * / and parentheses (nothing else is run)."""

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        raise ValueError(f"unsupported element: {ast.dump(node)[:60]}")

    try:
        return walk(ast.parse(expression, mode="eval"))
    except (SyntaxError, ZeroDivisionError) as ex:
        raise ValueError(str(ex)) from ex


@tool
def calculator():  # type: ignore[no-untyped-def]
    async def execute(expression: str) -> str:
        """Evaluate an arithmetic expression.

        Args:
            expression: Numbers with + - * / and parentheses, e.g. "(12 + 7) * 3".

        Returns:
            The value of the expression.
        """
        try:
            value = evaluate_arithmetic(expression)
        except ValueError as ex:
            raise ToolError(f"cannot evaluate {expression!r}: {ex}") from None
        return f"{value:g}"

    return execute


def arithmetic_samples(n: int, seed: int) -> list[Sample]:
    """Distinct two-step arithmetic problems with their answers."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    seen: set[str] = set()
    while len(samples) < n:
        a, b, c = rng.randint(11, 99), rng.randint(11, 99), rng.randint(2, 30)
        op = rng.choice(["+", "-"])
        expression = f"{a} * {b} {op} {c}"
        if expression in seen:
            continue
        seen.add(expression)
        answer = evaluate_arithmetic(expression)
        samples.append(
            Sample(
                id=f"arith-{len(samples):03d}",
                input=f"What is {expression}? Use the calculator tool, then reply with the number.",
                target=f"{answer:g}",
                metadata={"expression": expression},
            )
        )
    return samples


@scorer(metrics=[accuracy(), stderr()])
def engaged():  # type: ignore[no-untyped-def]
    """1 when the model made at least one tool call that parsed and ran without error."""

    async def score(state: TaskState, target: Target) -> Score:
        results = [m for m in state.messages if isinstance(m, ChatMessageTool)]
        valid = [m for m in results if m.error is None]
        return Score(
            value=1 if valid else 0,
            explanation=f"{len(valid)} valid of {len(results)} tool calls",
            metadata={"tool_calls": len(results), "valid_tool_calls": len(valid)},
        )

    return score


@scorer(metrics=[accuracy(), stderr()])
def final_number():  # type: ignore[no-untyped-def]
    """1 when the last number in the final answer equals the target."""

    async def score(state: TaskState, target: Target) -> Score:
        numbers = re.findall(r"-?\d+(?:\.\d+)?", state.output.completion.replace(",", ""))
        answer = numbers[-1] if numbers else None
        correct = answer is not None and float(answer) == float(target.text)
        return Score(value=1 if correct else 0, answer=answer or "", explanation=state.output.completion[:200])

    return score


@task
def tool_use_check(*, samples: int = 10, seed: int = 0, message_limit: int = 10) -> Task:
    """Arithmetic through a calculator tool: engagement and correctness.

    Args:
        samples: Number of problems.
        seed: Seed of the problem generator.
        message_limit: Most messages per rollout (a solve needs about 5).
    """
    return Task(
        dataset=arithmetic_samples(samples, seed),
        solver=[system_message(SYSTEM), use_tools(calculator()), generate()],
        scorer=[engaged(), final_number()],
        message_limit=message_limit,
    )
