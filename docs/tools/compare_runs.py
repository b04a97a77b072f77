# Compares two run trees (from docs/tools/behaviour-runs.sh): file bytes, and for safetensors files every tensor's bytes
# and the metadata key by key. Usage: python3 compare_runs.py BEFORE/runs AFTER/runs
import sys, os, json, hashlib, struct
a, b = sys.argv[1], sys.argv[2]
def st(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]; header = json.loads(f.read(n)); data = f.read()
    meta = header.pop('__metadata__', {})
    tensors = {k: hashlib.sha256(data[v['data_offsets'][0]:v['data_offsets'][1]]).hexdigest()[:16] for k, v in header.items()}
    return meta, tensors
for root, _, files in os.walk(a):
    for name in sorted(files):
        pa = os.path.join(root, name); rel = os.path.relpath(pa, a); pb = os.path.join(b, rel)
        if not os.path.exists(pb): print('MISSING', rel); continue
        same = open(pa,'rb').read() == open(pb,'rb').read()
        if same: print('identical', rel); continue
        if name.endswith('.safetensors'):
            ma, ta = st(pa); mb, tb = st(pb)
            tdiff = [k for k in ta if ta[k] != tb.get(k)]
            mdiff = [k for k in set(ma) | set(mb) if ma.get(k) != mb.get(k)]
            print(('TENSORS EQUAL' if not tdiff and set(ta)==set(tb) else f'TENSORS DIFFER {tdiff[:5]}'), rel, 'metadata differs in', mdiff)
        else:
            print('DIFFERENT', rel)
