"""`bpdetect train` and `bpdetect evaluate`: registered into the CLI through the `bpdetect.commands` entry point."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from bpdetect.extract import Detector
from bpdetect.persist import ModelError, save_model

__all__ = ["register", "run_evaluate", "run_train"]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _count_pages(roots: list[Path], corpora: list[str] | None) -> int:
    from .corpora import INDEX_FILE, list_corpora
    from .dataset import corpus_dir

    total = 0
    for root in roots:
        for name in list_corpora(root):
            if corpora and name not in corpora:
                continue
            with (corpus_dir(root, name) / INDEX_FILE).open(encoding="utf-8") as fh:
                total += sum(1 for line in fh if line.strip())
    return total


def _parse_corpus_weights(values: list[str]) -> dict[str, float]:
    """``NAME=W`` strings as a mapping (ValueError with the bad string otherwise)."""
    out: dict[str, float] = {}
    for v in values:
        name, sep, w = v.partition("=")
        try:
            out[name.strip()] = float(w)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise ValueError(f"--corpus-weight wants NAME=NUMBER, got {v!r}")
    return out


def _parse_threshold(value: str | None) -> float | str | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return value


def run_train(
    roots: list[Path],
    out: Path,
    input_kind: str,
    corpora: list[str] | None,
    jobs: int,
    cache: Path | None,
    *,
    context: bool = True,
    max_iter: int = 50,
    split: bool = True,
    extra_params: dict | None = None,
    seed: int = 0,
    corpus_weights: dict[str, float] | None = None,
    exact_pseudo_tokens: float | None = None,
    lexical: bool = False,
) -> None:
    """Build labeled blocks (with a progress bar), train, print a summary table and save the model."""
    from .dataset import load_blocksets
    from .train import train_model

    for r in roots:
        if not Path(r).exists():
            raise FileNotFoundError(f"no dataset folder at {r}")
    total = _count_pages(roots, corpora)
    with tqdm(total=total, desc=f"labeling {input_kind} blocks", unit="page") as bar:
        sets = load_blocksets(roots, input_kind, corpora=corpora, n_jobs=jobs, cache_dir=cache, progress=bar.update)
    sets = [s for s in sets if s.n_pages]
    if not sets:
        raise ValueError("no labeled pages found")
    typer.echo(f"{'corpus':<20}{'pages':>7}{'val':>6}{'blocks':>9}{'content':>9}")
    for s in sets:
        share = (s.overlap >= 0.5).mean()
        typer.echo(f"{s.corpus:<20}{s.n_pages:>7}{int(s.page_val.sum()):>6}{len(s.overlap):>9}{share:>9.2f}")
    typer.echo("training…")
    result = train_model(
        sets,
        input_kind,
        params={"context": context, "max_iter": max_iter, **(extra_params or {})},
        roots=roots,
        use_validation_split=split,
        seed=seed,
        corpus_weights=corpus_weights,
        exact_pseudo_tokens=exact_pseudo_tokens,
        lexical=lexical,
    )
    side = save_model(result.bundle, out)
    val = result.validation
    b = result.bundle
    typer.echo(f"trained in {result.seconds:.0f} s; threshold {b.threshold} presets {b.presets}")
    if val:
        typer.echo(f"{'validation':<20}{'pages':>7}{'F1 mean':>9}{'median':>8}{'P':>7}{'R':>7}")
        for name, c in sorted(val["per_corpus"].items()):
            typer.echo(
                f"{name:<20}{c['pages']:>7}{c['f1_mean']:>9.3f}{c['f1_median']:>8.3f}"
                f"{c['precision_mean']:>7.3f}{c['recall_mean']:>7.3f}"
            )
        typer.echo(f"{'macro over corpora':<20}{'':>7}{val['f1_macro_corpora']:>9.3f}")
    typer.echo(f"wrote {out} and {side}")


def run_evaluate(
    roots: list[Path],
    model: Path | None,
    input_kind: str,
    corpora: list[str] | None,
    split: str,
    report_dir: Path,
    threshold: float | str | None,
) -> dict:
    """Evaluate end to end, print the per-corpus table, write report.json and plots."""
    from .evaluate import evaluate, write_plots

    det = Detector.load(model) if model else Detector()
    det.bundle(input_kind)  # fail early (and clearly) on a bad model
    total = _count_pages(roots, corpora)
    with tqdm(total=total, desc="evaluating", unit="page") as bar:
        rep = evaluate(det, roots, input_kind, corpora=corpora, split=split, threshold=threshold, progress=bar.update)
    report_dir.mkdir(parents=True, exist_ok=True)
    rep.write(report_dir / "report.json")
    plots = write_plots(rep, report_dir)
    typer.echo(f"{'corpus':<20}{'pages':>7}{'F1 mean':>9}{'median':>8}{'P mean':>8}{'R mean':>8}{'block F1':>10}")
    for name, c in sorted(rep.data["per_corpus"].items()):
        blk = c.get("block_token_weighted", {}).get("f1", float("nan"))
        typer.echo(
            f"{name:<20}{c['pages']:>7}{c['token_f1']['mean']:>9.3f}{c['token_f1']['median']:>8.3f}"
            f"{c['token_precision']['mean']:>8.3f}{c['token_recall']['mean']:>8.3f}{blk:>10.3f}"
        )
    typer.echo(f"{'macro':<20}{'':>7}{rep.data['macro_token_f1_mean']:>9.3f}")
    typer.echo(f"wrote {report_dir / 'report.json'} and {', '.join(str(p) for p in plots)}")
    return rep.data


def register(app: typer.Typer) -> None:
    """Add the train and evaluate commands to the bpdetect CLI."""

    @app.command()
    def train(
        data: Annotated[list[Path], typer.Argument(help="Dataset folders (a folder of corpora or one corpus).")],
        out: Annotated[
            Path, typer.Option("--out", "-o", help="Model file to write (.npz or .skops; adds a .json sidecar).")
        ],
        input: Annotated[str, typer.Option("--input", "-i", help="Train the html or the text model.")] = "html",
        corpus: Annotated[list[str] | None, typer.Option("--corpus", "-c", help="Only these corpora.")] = None,
        jobs: Annotated[int, typer.Option("--jobs", "-j", help="Processes for segmentation and labeling.")] = 2,
        cache: Annotated[Path | None, typer.Option(help="Folder caching labeled block matrices.")] = None,
        no_context: Annotated[bool, typer.Option("--no-context", help="Skip the sequence-aware 2nd pass.")] = False,
        max_iter: Annotated[int, typer.Option(help="Boosting iterations per stage.")] = 50,
        max_leaf_nodes: Annotated[int, typer.Option(help="Leaves per boosted tree.")] = 31,
        learning_rate: Annotated[float, typer.Option(help="Boosting learning rate.")] = 0.2,
        context_folds: Annotated[int, typer.Option(help="Site-wise folds for the 2nd pass's stacked scores.")] = 3,
        context_max_iter: Annotated[
            int | None, typer.Option(help="Boosting iterations of the 2nd pass (default: --max-iter).")
        ] = None,
        no_split: Annotated[bool, typer.Option("--no-split", help="Train on every page; no validation.")] = False,
        seed: Annotated[int, typer.Option(help="Random seed of the boosting and of the short-block sample.")] = 0,
        corpus_weight: Annotated[
            list[str] | None,
            typer.Option(help="NAME=W: weigh each page of corpus NAME W times (repeatable; e.g. your own dumps)."),
        ] = None,
        line_weight_tokens: Annotated[
            float | None,
            typer.Option(help="Pseudo-tokens added to each line of pages with exact line labels (labeled dumps)."),
        ] = None,
        lexical: Annotated[
            bool, typer.Option("--lexical", help="Add the lexical stage (hashed word/char n-grams; .npz models).")
        ] = False,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log skipped pages.")] = False,
    ) -> None:
        """Train a model on labeled pages and save it with its metadata."""
        logging.basicConfig(level=logging.INFO if verbose else logging.ERROR)
        if input not in ("html", "text"):
            raise _fail("--input must be html or text")
        try:
            weights = _parse_corpus_weights(corpus_weight or [])
            run_train(
                data, out, input, corpus, jobs, cache, context=not no_context, max_iter=max_iter, split=not no_split,
                extra_params={
                    "max_leaf_nodes": max_leaf_nodes, "context_folds": context_folds, "learning_rate": learning_rate,
                    "context_max_iter": context_max_iter,
                },
                seed=seed,
                corpus_weights=weights,
                exact_pseudo_tokens=line_weight_tokens,
                lexical=lexical,
            )
        except (FileNotFoundError, ValueError) as exc:
            raise _fail(str(exc)) from exc

    @app.command()
    def evaluate(
        data: Annotated[list[Path], typer.Argument(help="Dataset folders (a folder of corpora or one corpus).")],
        model: Annotated[Path | None, typer.Option(help="Model file; the shipped default when omitted.")] = None,
        input: Annotated[str, typer.Option("--input", "-i", help="Evaluate the html or the text model.")] = "html",
        corpus: Annotated[list[str] | None, typer.Option("--corpus", "-c", help="Only these corpora.")] = None,
        split: Annotated[str, typer.Option(help="auto (held-out sites of training corpora), val or all.")] = "auto",
        report: Annotated[Path, typer.Option(help="Folder for report.json and PNG plots.")] = Path("reports"),
        threshold: Annotated[str | None, typer.Option(help="A number or a preset name.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Also print the report as JSON.")] = False,
    ) -> None:
        """Score a model against gold text: token P/R/F1 per corpus (mean, median) and block-level scores."""
        if input not in ("html", "text"):
            raise _fail("--input must be html or text")
        if split not in ("auto", "val", "all"):
            raise _fail("--split must be auto, val or all")
        try:
            data_out = run_evaluate(data, model, input, corpus, split, report, _parse_threshold(threshold))
        except (ModelError, FileNotFoundError, ValueError) as exc:
            raise _fail(str(exc)) from exc
        if as_json:
            typer.echo(json.dumps({k: v for k, v in data_out.items() if k != "pr_curves"}, indent=2))
