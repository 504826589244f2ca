"""Helpers every jx-mlops quickstart shares: data, metrics, fairness, explanations, ONNX.

They were rendered into this project from the jx-mlops quickstart catalogue
(quickstarts/_shared); they are yours now, change them as the project needs. The stage
scripts in src/ call them; src/common.py (the dataset) and src/model_io.py (the model's
framework) are what differs from one quickstart to the next.
"""
