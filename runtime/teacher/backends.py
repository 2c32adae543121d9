"""Where the teacher's answers come from: an OpenAI-compatible endpoint, or a local transformers VLM.

A backend is anything with ``name`` (the model's name, part of the cache key) and
``complete(messages) -> str``. Every failure becomes one :class:`TeacherError` saying where
and why.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import Protocol

import numpy as np

from rulec.runtime.teacher.errors import TeacherError


class Backend(Protocol):
    name: str

    def complete(self, messages: list[dict]) -> str: ...


class OpenAIBackend:
    """Chat completions from any OpenAI-compatible server (vLLM and SGLang serve Qwen2.5-VL this way)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 2,
        temperature: float = 0.0,
        max_tokens: int = 2048,
    ):
        import openai

        self.name = model
        self.base_url = base_url
        self.timeout = timeout
        self.temperature = temperature
        self.max_tokens = max_tokens
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "EMPTY"),
            timeout=timeout,
            max_retries=max_retries,
        )

    def complete(self, messages: list[dict]) -> str:
        """One answer within ``timeout`` seconds in all (retries included), bounded in size and
        nesting before its JSON is parsed."""
        from rulec.runtime.teacher.deadline import call_with_deadline

        where = f"{self.base_url} (model {self.name!r})"
        return call_with_deadline(lambda: self._complete(messages, where), self.timeout,
                                  f"{where}: no answer within {self.timeout:g} s (timed out)")

    def _complete(self, messages: list[dict], where: str) -> str:
        import openai

        from rulec.runtime.input_limits import input_limit

        limit = input_limit("MAX_ANSWER_BYTES")
        try:
            with self._client.chat.completions.with_streaming_response.create(
                model=self.name,
                messages=messages,
                temperature=self.temperature,
                max_tokens=self.max_tokens,
            ) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise TeacherError(f"{where}: the answer is longer than {limit} bytes (RULEC_MAX_ANSWER_BYTES)")
        except openai.APITimeoutError:
            raise TeacherError(f"{where}: no answer within {self.timeout:g} s (timed out)") from None
        except openai.APIConnectionError as err:
            raise TeacherError(f"{where}: could not connect: {_cause(err)}") from None
        except openai.APIStatusError as err:
            raise TeacherError(f"{where}: the server answered HTTP {err.status_code}: {_snippet(_body_of(err))}") from None
        except (openai.OpenAIError, ValueError, OSError) as err:  # broken streams, validation errors
            raise TeacherError(f"{where}: the server's answer is not a chat completion: {_snippet(str(err))}") from None
        return _content_of(bytes(body), where)


def _body_of(err) -> str:
    try:
        return err.response.text
    except Exception:  # a streamed body that was not read
        return str(err)


def _content_of(body: bytes, where: str) -> str:
    """The first choice's text from a chat completion's JSON body; a clear error for anything else."""
    import json

    from rulec.runtime.input_limits import input_limit, json_nesting

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise TeacherError(f"{where}: the server's answer is not a chat completion: not UTF-8") from None
    depth, max_depth = json_nesting(text), input_limit("MAX_JSON_NESTING")
    if depth > max_depth:
        raise TeacherError(f"{where}: the server's answer is not a chat completion: JSON nested {depth} deep "
                           f"(more than {max_depth}, RULEC_MAX_JSON_NESTING)")
    try:
        data = json.loads(text)
    except ValueError:
        raise TeacherError(f"{where}: the server's answer is not a chat completion: {_snippet(text)}") from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise TeacherError(f"{where}: the server's answer is not a chat completion: {_snippet(text)}")
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        raise TeacherError(f"{where}: the server's answer has no text content")
    return content


def _cause(err: BaseException) -> str:
    inner = err.__cause__ or err.__context__
    return _snippet(str(inner) if inner else str(err))


def _snippet(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


class TransformersBackend:
    """Greedy generation from a local VLM folder (``AutoModelForImageTextToText``, ``local_files_only``)."""

    def __init__(self, vlm, *, max_new_tokens: int = 1024):
        self.vlm = vlm
        self.name = str(vlm.path) if vlm.path is not None else type(vlm.model).__name__
        self.max_new_tokens = max_new_tokens

    @classmethod
    def from_pretrained(cls, path: str | Path, *, max_new_tokens: int = 1024, dtype=None, device: str = "cpu"):
        from rulec.runtime.teacher.vlm import VLMLoadError, load_local_vlm

        try:
            vlm = load_local_vlm(path, dtype=dtype, device=device)
        except VLMLoadError as err:
            raise TeacherError(str(err)) from None
        return cls(vlm, max_new_tokens=max_new_tokens)

    def complete(self, messages: list[dict]) -> str:
        import torch

        conversation, images = to_hf_conversation(messages)
        inputs = self._inputs(conversation, images)
        device = self.vlm.model.device
        inputs = {k: v.to(device) if hasattr(v, "to") else v for k, v in inputs.items()}
        with torch.no_grad():
            out = self.vlm.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        new_tokens = out[0, inputs["input_ids"].shape[1]:]
        return self.vlm.tokenizer.decode(new_tokens, skip_special_tokens=True)

    def _inputs(self, conversation: list[dict], images: list[np.ndarray]) -> dict:
        vlm = self.vlm
        if vlm.processor is not None:
            text = vlm.processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
            return dict(vlm.processor(text=[text], images=images or None, return_tensors="pt"))
        return qwen_style_inputs(vlm, conversation, images)


def qwen_style_inputs(vlm, conversation: list[dict], images: list[np.ndarray]) -> dict:
    """Model inputs for a Qwen2-VL-family model without its processor (see :mod:`rulec.runtime.teacher.vlm`)."""
    import torch

    from rulec.frames import to_float
    from rulec.runtime.teacher.vlm import expand_image_tokens
    from rulec.runtime.models.vqa import TorchImagePreprocessor

    text = vlm.tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
    inputs: dict = {}
    counts: list[int] = []
    if images:
        pre = TorchImagePreprocessor.from_image_processor(vlm.image_processor)
        pixels, grids = [], []
        for image in images:
            frame = to_float(image)[None]
            values, grid = pre(frame)
            pixels.append(values)
            grids.append(grid)
        inputs["pixel_values"] = torch.cat(pixels).to(vlm.model.dtype)
        inputs["image_grid_thw"] = torch.cat(grids)
        counts = [int(g.prod()) // pre.merge_size**2 for g in inputs["image_grid_thw"]]
    text = expand_image_tokens(text, vlm.image_token, counts)
    ids = vlm.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    inputs["input_ids"] = ids
    inputs["attention_mask"] = torch.ones_like(ids)
    inputs["mm_token_type_ids"] = (ids == vlm.image_token_id).int()
    return inputs


def to_hf_conversation(messages: list[dict]) -> tuple[list[dict], list[np.ndarray]]:
    """OpenAI-format messages -> transformers chat messages (content lists) and the decoded images, in order."""
    import imageio.v3 as iio

    conversation, images = [], []
    for message in messages:
        content = message["content"]
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else []
        for part in content if not isinstance(content, str) else []:
            if part.get("type") == "image_url":
                url = part["image_url"]["url"]
                header, _, data = url.partition(",")
                if not header.startswith("data:image/") or ";base64" not in header:
                    raise TeacherError("the transformers backend only takes images as base64 data URLs")
                image = iio.imread(io.BytesIO(base64.b64decode(data)))
                images.append(np.asarray(image)[..., :3])
                parts.append({"type": "image"})
            else:
                parts.append({"type": "text", "text": part.get("text", "")})
        conversation.append({"role": message["role"], "content": parts})
    return conversation, images
