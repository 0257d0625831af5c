"""Optimizers: SGD, Adam, AdamW, RMSprop, Adagrad (LBFGS and schedulers arrive with issue 3)."""

from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import Adagrad, RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]
