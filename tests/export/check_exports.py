"""Loads cnnkit exports in Python and compares their outputs with cnnkit's (a test helper).

usage: check_exports.py CASE_DIR...

Each CASE_DIR holds expected.pt (a dict: "images" float [N, C, H, W] in [0, 1], "logits" from
cnnkit, optionally "inputs": the normalised network input for a --raw export, and
"probabilities" from `cnnkit predict`) and the export: model.ts, and model.py + weights.pt
when the pytorch format was written. Prints one JSON line per case.
"""
import importlib.util
import json
import os
import sys

import torch


def load_python_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def max_diff(a, b):
    if a.shape != b.shape:
        return "shape %s vs %s" % (tuple(a.shape), tuple(b.shape))
    return (a - b).abs().max().item()


def check(index, case):
    result = {"case": os.path.basename(case)}
    expected = torch.load(os.path.join(case, "expected.pt"))
    images, logits = expected["images"], expected["logits"]
    result["logit_scale"] = logits.abs().max().item()
    ts = torch.jit.load(os.path.join(case, "model.ts"))
    net_input = expected.get("inputs", images)
    with torch.no_grad():
        ts_logits = ts(net_input)
        result["ts_max_diff"] = max_diff(ts_logits, logits)
        ts.train()
        result["ts_train_mode_max_diff"] = max_diff(ts(net_input), logits)
        ts.eval()
    result["ts_class_names"] = list(ts.class_names)
    result["ts_normalizes_input"] = bool(ts.normalizes_input)
    if "probabilities" in expected:
        result["predict_max_diff"] = max_diff(torch.softmax(ts_logits, 1), expected["probabilities"])
    model_py = os.path.join(case, "model.py")
    if os.path.exists(model_py):
        module = load_python_module(model_py, "cnnkit_export_case_%d" % index)
        net = module.load(os.path.join(case, "weights.pt"))
        with torch.no_grad():
            result["py_max_diff"] = max_diff(net(module.normalize(images)), logits)
        weights = torch.load(os.path.join(case, "weights.pt"))
        result["weights_is_plain_dict"] = type(weights) is dict
        result["keys_equal"] = sorted(net.state_dict()) == sorted(ts.state_dict()) == sorted(weights)
        result["py_class_names"] = list(module.CLASS_NAMES)
        result["py_input_shape"] = list(module.INPUT_SHAPE)
    return result


def main():
    for index, case in enumerate(sys.argv[1:]):
        try:
            result = check(index, case)
        except Exception as e:  # reported per case, the others still run
            result = {"case": os.path.basename(case), "error": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
