"""The `antischeme/` Inspect model provider: local models with prefill, n choices and logprobs.

    inspect eval antischeme/tool_use_check --model antischeme/smollm2
    inspect eval ... --model antischeme/mymodel -M model_path=/path/to/model.gguf
    inspect eval ... --model antischeme/ckpt -M model_path=/path/to/hf_folder -M backend=transformers
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    ContentReasoning,
    ContentText,
    GenerateConfig,
    Logprob,
    Logprobs,
    ModelAPI,
    ModelCall,
    ModelOutput,
    ModelUsage,
    TopLogprob,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolFunction, ToolInfo

from .._errors import AntischemeError
from ._chat import UnsupportedInput, render_prompt
from ._embedded import EMBEDDED_MODELS, embedded_model_path
from ._engine import Completion, Engine
from ._protocol import ReasoningTags, parse_tool_calls, split_reasoning
from ._sampling import SamplingParams

BACKENDS = ("llama", "transformers")
DEFAULT_MAX_TOKENS = 512

# GenerateConfig fields that change what is sampled and that we do not implement: asking for
# them is an error, not a silent no-op.
_UNSUPPORTED_OPTIONS = ("frequency_penalty", "presence_penalty", "logit_bias", "response_schema", "prompt_logprobs")

_engines: dict[tuple[Any, ...], Engine] = {}
_engines_lock = threading.Lock()


def load_engine(
    *,
    model_path: str | Path,
    backend: str | None = None,
    max_batch: int = 8,
    n_ctx: int | None = None,
    n_threads: int | None = None,
    dtype: str = "float32",
    prefix_cache: bool = True,
) -> Engine:
    """A loaded engine, shared by every caller asking for the same model and settings.

    Args:
        model_path: GGUF file or HF model folder.
        backend: "llama" or "transformers" (default: llama for GGUF, transformers otherwise).
        max_batch: Most sequences decoded together.
        n_ctx: Context length per sequence.
        n_threads: CPU threads.
        dtype: Weight dtype (transformers backend).
        prefix_cache: Reuse cached prompt prefixes across requests (llama backend).
    """
    path = Path(model_path).expanduser()
    if not path.exists():
        raise AntischemeError(f"model file not found: {path} (pass -M model_path=<GGUF file or HF folder>)")
    is_gguf = path.is_file() and path.suffix == ".gguf"
    backend = backend or ("llama" if is_gguf else "transformers")
    if backend not in BACKENDS:
        raise AntischemeError(f"unknown backend '{backend}'; choose one of: {', '.join(BACKENDS)}")
    if backend == "llama" and not is_gguf:
        raise AntischemeError(
            f"the llama backend reads GGUF files; {path} is not one (use -M backend=transformers for HF folders)"
        )
    if path.is_dir() and not (path / "config.json").is_file():
        raise AntischemeError(f"{path} is not an HF model folder (no config.json)")
    key = (backend, str(path.resolve()), max_batch, n_ctx, n_threads, dtype, prefix_cache)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            if backend == "llama":
                from ._llama import LlamaCppEngine

                engine = LlamaCppEngine(
                    model_path=path, max_batch=max_batch, n_ctx=n_ctx, n_threads=n_threads, prefix_cache=prefix_cache
                )
            else:
                from ._transformers import TransformersEngine

                engine = TransformersEngine(
                    model_path=path, max_batch=max_batch, n_ctx=n_ctx, n_threads=n_threads, dtype=dtype
                )
            _engines[key] = engine
    return engine


class LocalModelAPI(ModelAPI):
    """Inspect provider for local models (llama.cpp or transformers backends).

    Args:
        model_name: Embedded model name (``smollm2``) or any label when ``model_path`` is given.
        base_url: Unused (local model).
        api_key: Unused (local model).
        config: Default generation config.
        **model_args: ``model_path``, ``backend``, ``max_batch``, ``n_ctx``, ``n_threads``,
            ``dtype``, ``prefix_cache`` (bool, llama backend), ``reasoning_tags`` ("<think>,</think>"),
            ``scratchpad`` (bool).
    """

    MODEL_ARGS = (
        "model_path", "backend", "max_batch", "n_ctx", "n_threads", "dtype", "prefix_cache", "reasoning_tags",
        "scratchpad",
    )

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        **model_args: Any,
    ) -> None:
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, config=config)
        unknown = sorted(set(model_args) - set(self.MODEL_ARGS))
        if unknown:
            raise AntischemeError(
                f"unknown model arg(s) {', '.join(unknown)} for antischeme/{model_name}; "
                f"supported: {', '.join(self.MODEL_ARGS)}"
            )
        _check_config(config)
        model_path = model_args.get("model_path")
        if model_path is None:
            if model_name not in EMBEDDED_MODELS:
                raise AntischemeError(
                    f"unknown model 'antischeme/{model_name}'. Embedded models: "
                    f"{', '.join('antischeme/' + n for n in EMBEDDED_MODELS)}; for another local model "
                    "pass -M model_path=<GGUF file or HF folder>"
                )
            model_path = embedded_model_path(model_name)
        try:
            self.reasoning_tags = ReasoningTags.parse(model_args.get("reasoning_tags"))
        except ValueError as ex:
            raise AntischemeError(str(ex)) from None
        self.scratchpad = _as_bool(model_args.get("scratchpad", False))
        self.max_batch = int(model_args.get("max_batch", 8))
        self.engine = load_engine(
            model_path=model_path,
            backend=model_args.get("backend"),
            max_batch=self.max_batch,
            n_ctx=int(model_args["n_ctx"]) if model_args.get("n_ctx") else None,
            n_threads=int(model_args["n_threads"]) if model_args.get("n_threads") else None,
            dtype=str(model_args.get("dtype", "float32")),
            prefix_cache=_as_bool(model_args.get("prefix_cache", True)),
        )

    def max_connections(self) -> int:
        # keep the batch full: queued requests take slots as soon as sequences finish
        return 2 * self.max_batch

    def max_tokens(self) -> int | None:
        return DEFAULT_MAX_TOKENS

    def connection_key(self) -> str:
        return str(id(self.engine))

    async def tokenize(self, text: str) -> list[int]:
        return self.engine.tokenize(text)

    async def count_text_tokens(self, text: str) -> int:
        return len(self.engine.tokenize(text))

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> tuple[ModelOutput | Exception, ModelCall]:
        _check_config(config)
        offered = tools if tool_choice != "none" else []
        try:
            prompt = render_prompt(
                _with_tool_choice(input, tool_choice),
                template=self.engine.chat_template,
                special_tokens=self.engine.special_tokens,
                tools=offered,
                reasoning_tags=self.reasoning_tags,
                scratchpad=self.scratchpad,
            )
        except UnsupportedInput as ex:
            raise AntischemeError(str(ex)) from None
        prompt_ids = self.engine.tokenize(prompt.text)
        params = _sampling_params(config)
        request = {"prompt": prompt.text, "prompt_tokens": len(prompt_ids), "params": [p.__dict__ for p in params]}
        if len(prompt_ids) >= self.engine.context_length - 1:
            # the conversation outgrew the context: end the turn like a server would, so an agent
            # loop stops and the rollout is scored on what it did (raise n_ctx to go further)
            output = ModelOutput.from_content(self.model_name, "", stop_reason="model_length")
            output.usage = ModelUsage(input_tokens=len(prompt_ids), output_tokens=0, total_tokens=len(prompt_ids))
            output.metadata = {"context_length": self.engine.context_length, "prompt_tokens": len(prompt_ids)}
            return output, ModelCall.create(request=request, response={"error": "prompt exceeds the context"})
        completions = await self.engine.generate(prompt_ids, params)
        choices = [self._choice(prompt.prefill, c, parse_tools=bool(offered)) for c in completions]
        output_tokens = sum(len(c.token_ids) for c in completions)
        output = ModelOutput(
            model=self.model_name,
            choices=choices,
            usage=ModelUsage(
                input_tokens=len(prompt_ids), output_tokens=output_tokens, total_tokens=len(prompt_ids) + output_tokens
            ),
            # prefilled: the raw text each choice added after the prefill, for CoT experiments
            metadata={"prefill": prompt.prefill, "continuations": [c.text for c in completions], "backend": self.engine.name}
            if prompt.prefill
            else {"backend": self.engine.name},
        )
        response = {"completions": [{"text": c.text, "finish_reason": c.finish_reason} for c in completions]}
        return output, ModelCall.create(request=request, response=response)

    def _choice(self, prefill: str, completion: Completion, *, parse_tools: bool) -> ChatCompletionChoice:
        # a prefilled turn is returned whole (prefill + continuation): its reasoning and tool
        # calls may start in the prefill; metadata["prefill"] says where the continuation begins
        full = prefill + completion.text
        reasoning, answer = split_reasoning(full, self.reasoning_tags)
        tool_calls = []
        if parse_tools:
            answer, tool_calls = parse_tool_calls(answer)
        content: list[ContentText | ContentReasoning] = []
        if reasoning is not None:
            content.append(ContentReasoning(reasoning=reasoning))
        content.append(ContentText(text=answer))
        stop_reason = {"stop": "stop", "length": "max_tokens", "context": "model_length"}[completion.finish_reason]
        if tool_calls and completion.finish_reason == "stop":
            stop_reason = "tool_calls"
        return ChatCompletionChoice(
            message=ChatMessageAssistant(
                content=content, tool_calls=tool_calls or None, model=self.model_name, source="generate"
            ),
            stop_reason=stop_reason,  # type: ignore[arg-type]
            logprobs=self._logprobs(completion),
        )

    def _logprobs(self, completion: Completion) -> Logprobs | None:
        if completion.logprobs is None:
            return None
        piece = self.engine.detokenize
        return Logprobs(
            content=[
                Logprob(
                    token=piece([lp.token_id]),
                    logprob=lp.logprob,
                    top_logprobs=[TopLogprob(token=piece([t]), logprob=v) for t, v in lp.top] or None,
                )
                for lp in completion.logprobs
            ]
        )


def _sampling_params(config: GenerateConfig) -> list[SamplingParams]:
    n = config.num_choices or 1
    return [
        SamplingParams(
            max_tokens=config.max_tokens or DEFAULT_MAX_TOKENS,
            temperature=1.0 if config.temperature is None else config.temperature,
            top_p=1.0 if config.top_p is None else config.top_p,
            top_k=config.top_k or 0,
            seed=None if config.seed is None else config.seed + choice,
            stop=tuple(config.stop_seqs or ()),
            logprobs=bool(config.logprobs),
            top_logprobs=config.top_logprobs or 0,
        )
        for choice in range(n)
    ]


def _check_config(config: GenerateConfig) -> None:
    asked = [name for name in _UNSUPPORTED_OPTIONS if getattr(config, name, None) not in (None, {}, [])]
    if config.best_of not in (None, 1):
        asked.append("best_of")
    if asked:
        raise AntischemeError(
            f"the antischeme local engine does not support {', '.join(asked)}; "
            "supported: temperature, top_p, top_k, seed, max_tokens, stop_seqs, num_choices, logprobs, top_logprobs"
        )


def _with_tool_choice(messages: list[ChatMessage], tool_choice: ToolChoice) -> list[ChatMessage]:
    if isinstance(tool_choice, ToolFunction):
        from inspect_ai.model import ChatMessageSystem

        return [ChatMessageSystem(content=f"You must call the tool `{tool_choice.name}` in this reply."), *messages]
    return messages


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@modelapi(name="antischeme")
def antischeme() -> type[ModelAPI]:
    return LocalModelAPI
