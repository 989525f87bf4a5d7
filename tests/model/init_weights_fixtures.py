"""Makes weight files from an exported model.py for tests/model/init_weights_test.cpp.

usage: init_weights_fixtures.py EXPORT_DIR OUT_DIR

  trained.pt          dict(net.state_dict()) after three SGD steps in Python (batch-norm
                      statistics and num_batches_tracked move too)
  trained_logits.pt   {"inputs": normalised images, "logits": the trained net's, eval mode}
  ordered.pt          net.state_dict() as PyTorch returns it: an OrderedDict
  module.pt           torch.save(net): a pickled module
  legacy.pt           the plain dict in the pre-1.6, non-zip format
"""
import importlib.util
import os
import sys

import torch
import torch.nn.functional as F

export_dir, out = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("exported_model", os.path.join(export_dir, "model.py"))
model = importlib.util.module_from_spec(spec)
sys.modules["exported_model"] = model
spec.loader.exec_module(model)

torch.manual_seed(0)
net = model.load(os.path.join(export_dir, "weights.pt"))
net.train()
optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
for _ in range(3):
    images = torch.rand(8, *model.INPUT_SHAPE)
    labels = torch.randint(0, len(model.CLASS_NAMES), (8,))
    loss = F.cross_entropy(net(model.normalize(images)), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
net.eval()
inputs = model.normalize(torch.rand(4, *model.INPUT_SHAPE))
with torch.no_grad():
    logits = net(inputs)

torch.save(dict(net.state_dict()), os.path.join(out, "trained.pt"))
torch.save({"inputs": inputs, "logits": logits}, os.path.join(out, "trained_logits.pt"))
torch.save(net.state_dict(), os.path.join(out, "ordered.pt"))
torch.save(net, os.path.join(out, "module.pt"))
torch.save(dict(net.state_dict()), os.path.join(out, "legacy.pt"), _use_new_zipfile_serialization=False)
print("ok")
