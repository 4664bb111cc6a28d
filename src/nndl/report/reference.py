"""The original study's numbers (the report's Tables 1 and 2, and FACTS that complete it)."""

from __future__ import annotations

TABLE_1 = {
    "basic": {"train_loss": 0.2418, "val_loss": 0.2375, "test_loss": 0.3417},
    "best": {"train_loss": 0.3008, "val_loss": 0.1822, "test_loss": 0.1216},
}
REGRESSION_SEARCH = {"completed": 65, "best_value": 0.227, "mean_value": 0.376}

TABLE_2 = {
    "fcn": {"train_loss": 0.0138, "val_loss": 0.1087, "test_accuracy": 0.9735},
    "cnn": {"train_loss": 0.0308, "val_loss": 0.0762, "test_accuracy": 0.9819},
    "dcnn": {"train_loss": 0.0819, "val_loss": 0.0463, "test_accuracy": 0.9887},
    "pdcnn": {"train_loss": 0.0580, "val_loss": 0.0421, "test_accuracy": 0.9898},
    "best": {"train_loss": 0.1062, "val_loss": 0.0527, "test_accuracy": 0.9873},
}
MNIST_SEARCH = {"trials": 50, "pruned_invalid": 28, "completed": 22, "best_value": 0.0467}
