#!/usr/bin/python3
"""Compares the tensors of two prepared datasets (safetensors): sha256 of the file and of each tensor, and for uint8
tensors that differ the max and mean absolute difference.

   /usr/bin/python3 bench/codecs/compare_prepared.py A.safetensors B.safetensors
"""
import hashlib, json, struct, sys
import numpy as np
def load(path):
    data = open(path, 'rb').read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == '__metadata__': continue
        a, b = v['data_offsets']
        out[k] = (v['dtype'], v['shape'], data[8 + n + a: 8 + n + b])
    return out, header.get('__metadata__', {})
a, ma = load(sys.argv[1]); b, mb = load(sys.argv[2])
print('file sha256', hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest()[:16], hashlib.sha256(open(sys.argv[2],'rb').read()).hexdigest()[:16])
for k in sorted(a):
    da, sa, ra = a[k]; db, sb, rb = b[k]
    ha, hb = hashlib.sha256(ra).hexdigest(), hashlib.sha256(rb).hexdigest()
    line = f'{k} {da} {sa}: sha256 {ha[:16]} / {hb[:16]} {"identical" if ha == hb else "DIFFERENT"}'
    if ha != hb and da == 'U8':
        x = np.frombuffer(ra, np.uint8).astype(np.int16); y = np.frombuffer(rb, np.uint8).astype(np.int16)
        d = np.abs(x - y)
        line += f' max abs {d.max()} mean abs {d.mean():.4f} differing {np.count_nonzero(d) / d.size:.2%}'
    print(line)
for key in sorted(set(ma) | set(mb)):
    if ma.get(key) != mb.get(key): print('metadata differs:', key, str(ma.get(key))[:200], '|', str(mb.get(key))[:200])
