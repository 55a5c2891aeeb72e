"""TF-IDF baselines reported beside the LSTM classifier.

Features: TF-IDF of word 1-2 grams and of character 2-5 grams (within word
boundaries), sublinear tf, concatenated. Classes: logistic regression;
scores: ridge regression. Both from scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["TfidfBaseline"]


class TfidfBaseline:
    """``task="classes"`` -> logistic regression, ``task="regression"`` -> ridge."""

    def __init__(self, task: str = "classes", C: float = 10.0, alpha: float = 1.0) -> None:
        if task not in ("classes", "regression"):
            raise ValueError(f"task must be 'classes' or 'regression', got {task!r}")
        self.task = task
        self.C = C
        self.alpha = alpha

    def _features(self):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        return FeatureUnion([
            ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
        ])

    def fit(self, texts: Sequence[str], labels: Sequence) -> "TfidfBaseline":
        from sklearn.linear_model import LogisticRegression, Ridge

        self.features = self._features()
        X = self.features.fit_transform(list(texts))
        if self.task == "classes":
            self.model = LogisticRegression(C=self.C, max_iter=2000)
        else:
            self.model = Ridge(alpha=self.alpha)
        self.model.fit(X, list(labels))
        return self

    def predict(self, texts: Sequence[str]) -> list:
        return list(self.model.predict(self.features.transform(list(texts))))
