"""Stage `train`: fit the neural network (CPU), save models/model.pt and the loss curve.

A slice of the training set is held out to watch for overfitting: plots/loss.json has
the training and validation loss of every epoch (`dvc plots show` draws it).
"""

from __future__ import annotations

import common
import model_io
import numpy as np
import torch
from kit.data import encode, features, params, read_table, write_json
from torch.nn.functional import binary_cross_entropy_with_logits


def split(x: np.ndarray, y: np.ndarray, fraction: float,
          seed: int) -> tuple[np.ndarray, ...]:
    order = np.random.default_rng(seed).permutation(len(y))
    cut = int(len(y) * (1 - fraction))
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def main() -> None:
    p = params("train")
    torch.manual_seed(p["seed"])
    torch.set_num_threads(1)  # one thread: the same params give the same model
    rows = read_table("data/prepared/train.csv")
    x_all = encode(rows, features(), common.CATEGORIES)
    y_all = rows[common.TARGET].to_numpy(dtype=np.float32)
    x, y, x_val, y_val = split(x_all, y_all, p["validation_fraction"], p["seed"])
    net = model_io.Classifier(x.shape[1], p["hidden"], x.mean(axis=0), x.std(axis=0))
    optimizer = torch.optim.Adam(net.parameters(), lr=p["learning_rate"],
                                 weight_decay=p["weight_decay"])
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    xv, yv = torch.from_numpy(x_val), torch.from_numpy(y_val)
    curve = []
    for epoch in range(1, p["epochs"] + 1):
        net.train()
        order = torch.randperm(len(ys))
        for start in range(0, len(ys), p["batch_size"]):
            batch = order[start:start + p["batch_size"]]
            optimizer.zero_grad()
            loss = binary_cross_entropy_with_logits(net.logits(xs[batch]), ys[batch])
            loss.backward()
            optimizer.step()
        net.eval()
        with torch.no_grad():
            curve.append({"epoch": epoch,
                          "train_loss": float(binary_cross_entropy_with_logits(
                              net.logits(xs), ys)),
                          "validation_loss": float(binary_cross_entropy_with_logits(
                              net.logits(xv), yv))})
    model_io.save(net)
    write_json("plots/loss.json", {"loss": curve})
    print(f"trained {p['epochs']} epochs on {len(ys)} rows; last: {curve[-1]}")


if __name__ == "__main__":
    main()
