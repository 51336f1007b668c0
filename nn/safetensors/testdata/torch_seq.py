# Writes torch_seq.safetensors and torch_seq.json with PyTorch (1.13, Debian's
# python3-torch): the state_dict of a small nn.Sequential, five inputs and the
# logits PyTorch computes for them in eval mode. PyTorch 1.13 has no
# safetensors writer, so the container is written here from the format's
# specification (8-byte little-endian header size, JSON header, raw data).
# Run from this folder: python3 torch_seq.py
import json
import struct

import torch

torch.manual_seed(7)
model = torch.nn.Sequential(
    torch.nn.Conv2d(2, 3, 3, stride=1, padding=1),
    torch.nn.ReLU(),
    torch.nn.AvgPool2d(2, 2),
    torch.nn.Flatten(),
    torch.nn.Linear(12, 4),
    torch.nn.ReLU(),
    torch.nn.Dropout(0.3),
    torch.nn.Linear(4, 3),
).eval()
x = torch.randn(5, 2, 4, 4)
with torch.no_grad():
    logits = model(x)

header, data, off = {"__metadata__": {"format": "pt"}}, b"", 0
for name, t in model.state_dict().items():
    raw = t.detach().contiguous().numpy().astype("<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
    data += raw
    off += len(raw)
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open("torch_seq.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + data)
with open("torch_seq.json", "w") as f:
    json.dump({"inputs": x.flatten().tolist(), "logits": logits.flatten().tolist()}, f)
