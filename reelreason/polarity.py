"""Polarity of CCPE preference spans, learned from GoEmotions.

CCPE marks "I like X" and "I hate X" alike as ENTITY_PREFERENCE. The signal: a logistic
regression on sentence embeddings, trained on GoEmotions comments whose emotion labels all
fall in one sentiment group (positive or negative; ambiguous and neutral comments are left
out). Its accuracy is measured on `data/polarity_eval.tsv`, preference sentences written by
hand for this project, next to the majority-class baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # sklearn costs ~1.3 s to import; only the step that trains pays it
    from sklearn.linear_model import LogisticRegression

THRESHOLD = 0.5


def evaluation_set() -> tuple[list[str], np.ndarray]:
    text = resources.files("reelreason").joinpath("data/polarity_eval.tsv").read_text("utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")][1:]
    return [r[0] for r in rows], np.array([1 if r[1] == "positive" else 0 for r in rows])


@dataclass
class PolarityModel:
    classifier: LogisticRegression
    n_train: int
    n_positive: int

    @classmethod
    def fit(cls, vectors: np.ndarray, labels: np.ndarray) -> PolarityModel:
        if len(set(labels.tolist())) < 2:
            raise ValueError("polarity training needs both positive and negative examples")
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(class_weight="balanced", max_iter=2000, C=1.0)
        clf.fit(vectors, labels)
        return cls(clf, len(labels), int(labels.sum()))

    def p_positive(self, vectors: np.ndarray) -> np.ndarray:
        return self.classifier.predict_proba(vectors)[:, 1]

    def evaluate(self, vectors: np.ndarray, labels: np.ndarray) -> dict:
        predicted = (self.p_positive(vectors) >= THRESHOLD).astype(int)
        majority = max(labels.mean(), 1 - labels.mean())
        return {
            "accuracy": float((predicted == labels).mean()),
            "majority_baseline": float(majority),
            "n": int(len(labels)),
            "trained_on": self.n_train,
            "trained_positive": self.n_positive,
        }
