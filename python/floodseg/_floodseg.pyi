"""Typed stubs of the extension module (python/src/lib.rs); the public API is floodseg/__init__.py."""

from typing import Any, Dict, List, Optional, Tuple

import numpy as np

__version__: str

class Segmenter:
    def __init__(self, backend: str = "auto") -> None: ...
    @property
    def description(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def last_core_seconds(self) -> float: ...
    def segment(self, image: Any, words: List[str], axes: Optional[str] = None) -> np.ndarray: ...
    def stages(self, image: Any, words: List[str], axes: Optional[str] = None) -> Dict[str, Any]: ...
    def segment_files(
        self,
        inputs: List[str],
        output: str,
        words: List[str],
        stats: Optional[str] = None,
        counts: Optional[str] = None,
        overlay: Optional[str] = None,
        label_name: Optional[str] = None,
        resume: bool = False,
        channel: Optional[int] = None,
    ) -> Dict[str, Any]: ...
    def track(
        self,
        image: Any,
        labels: Any,
        words: List[str],
        max_gap: int,
        max_drift: int,
        interval: Optional[float] = None,
        axes: Optional[str] = None,
    ) -> Dict[str, Any]: ...

def flag_names() -> List[Tuple[str, bool]]: ...
def check_words(words: List[str]) -> str: ...
def measure(labels: Any, image: Any = None, axes: Optional[str] = None) -> Dict[str, np.ndarray]: ...
def eval(gt: Any, pred: Any, thresholds: List[float]) -> List[Dict[str, Any]]: ...
