"""The classifier's model file, read once at start. A missing file stops the start with what to
run, rather than routing every complaint to triage without saying why."""

from __future__ import annotations

from pathlib import Path

import joblib

from routing.domain.text_model import TextModel

PACKAGED = Path(__file__).resolve().parents[1] / "model" / "text_model.joblib"


class ModelMissing(RuntimeError):
    pass


def load_model(path: Path | None = None) -> TextModel:
    where = path or PACKAGED
    if not where.is_file():
        raise ModelMissing(f"no classifier at {where}: run `make model` (it trains on the corpus "
                           "in services/routing/data/corpus) or set MODEL_PATH")
    model = joblib.load(where)
    if not isinstance(model, TextModel):
        raise ModelMissing(f"{where} is not a routing classifier; rebuild it with `make model`")
    return model
