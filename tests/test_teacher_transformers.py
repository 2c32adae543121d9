"""The transformers teacher backend on a tiny random-init Qwen2-VL saved to a temporary folder (offline)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from rulec.runtime.teacher import TeacherError, build_prompt
from rulec.runtime.teacher.backends import TransformersBackend, qwen_style_inputs, to_hf_conversation

_spec = importlib.util.spec_from_file_location("tiny_vlm", Path(__file__).parent / "fixtures/teacher/tiny_vlm.py")
tiny_vlm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_vlm)


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    folder = tiny_vlm.save(tmp_path_factory.mktemp("tiny-qwen2-vl"))
    return TransformersBackend.from_pretrained(folder, max_new_tokens=6)


@pytest.fixture
def messages():
    image = np.full((32, 32, 3), 255, np.uint8)
    image[4:9, 4:9] = (229, 57, 53)
    return build_prompt("Move the red disc to the green square.", image).messages


def test_conversation_carries_the_image(messages):
    conversation, images = to_hf_conversation(messages)
    assert [m["role"] for m in conversation] == ["system", "user"]
    assert conversation[1]["content"][0] == {"type": "image"}
    assert len(images) == 1 and images[0].shape == (256, 256, 3)
    assert tuple(images[0][40, 40]) == (229, 57, 53) and tuple(images[0][20, 20]) == (255, 255, 255)


def test_inputs_expand_one_image_token_per_merged_patch(backend, messages):
    conversation, images = to_hf_conversation(messages)
    inputs = qwen_style_inputs(backend.vlm, conversation, images)
    grid = inputs["image_grid_thw"]
    assert grid.tolist() == [[1, 8, 8]]  # 256 px, capped at 112*112 pixels by the processor config
    assert int(inputs["mm_token_type_ids"].sum()) == int(grid.prod()) // 4
    assert inputs["pixel_values"].shape == (64, 3 * 2 * 14 * 14)


def test_generation_returns_text(backend, messages):
    answer = backend.complete(messages)
    assert isinstance(answer, str)
    assert len(backend.vlm.tokenizer(answer, add_special_tokens=False)["input_ids"]) <= 6


def test_missing_model_folder_is_a_teacher_error(tmp_path):
    with pytest.raises(TeacherError, match="no such folder"):
        TransformersBackend.from_pretrained(tmp_path / "nowhere")


def test_cli_transformers_backend_missing_folder_exits_2(tmp_path):
    import imageio.v3 as iio

    from rulec.cli.teach import register

    app = typer.Typer()
    register(app)
    app.command("noop", hidden=True)(lambda: None)
    (tmp_path / "prompt.txt").write_text("Do it.")
    iio.imwrite(tmp_path / "first_frame.png", np.zeros((8, 8, 3), np.uint8))
    result = CliRunner().invoke(app, ["teach", str(tmp_path), "--backend", "transformers", "--model", str(tmp_path / "vlm")])
    assert result.exit_code == 2 and "no such folder" in result.output and "Traceback" not in result.output


def test_chat_template_beside_the_processor_is_used(tmp_path):
    """Checkpoints that keep the template in chat_template.json (not the tokenizer) still get it."""
    import json

    from rulec.runtime.teacher.vlm import load_local_vlm

    model, tokenizer, image_processor = tiny_vlm.build()
    template, tokenizer.chat_template = tokenizer.chat_template, None
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    image_processor.save_pretrained(tmp_path)
    for leftover in tmp_path.glob("chat_template.*"):
        leftover.unlink()
    assert not getattr(load_local_vlm(tmp_path).tokenizer, "chat_template", None)
    (tmp_path / "chat_template.json").write_text(json.dumps({"chat_template": template}))
    assert load_local_vlm(tmp_path).tokenizer.chat_template == template
