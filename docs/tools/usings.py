# The namespace graph of src/AmbientDiffusion: `using` directives and qualified references in code (comments stripped).
import os,re,collections,sys
root_dir=sys.argv[1] if len(sys.argv)>1 else '.'
g=collections.defaultdict(set)
names='Config|Diffusion|Training|Sampling|Memorization|Models|Corruption|Data|Common|Experiments|Reporting|Evaluation|Classification'
for root,_,files in os.walk(root_dir):
    if '/obj' in root or '/bin' in root: continue
    for f in files:
        if not f.endswith('.cs'): continue
        s=open(os.path.join(root,f)).read()
        ns=re.search(r'^namespace AmbientDiffusion\.?([\w.]*);',s,re.M)
        if not ns: continue
        me=ns.group(1).split('.')[0]
        code=re.sub(r'//.*','',s)
        code=re.sub(r'"(?:[^"\\]|\\.)*"','""',code)
        for u in re.findall(r'^using AmbientDiffusion\.(\w+)',code,re.M)+re.findall(r'\b(?:AmbientDiffusion\.)?('+names+r')\.[A-Z]\w+',code):
            if u!=me and u!='Torch': g[me].add(u)
for k in sorted(g): print(f"{k:14s} -> {', '.join(sorted(g[k]))}")
found=set()
def dfs(n,path):
    for m in sorted(g.get(n,())):
        if m in path:
            c=tuple(path[path.index(m):]); key=frozenset(c)
            if key not in found: found.add(key); print('CYCLE', ' -> '.join(c+(m,)))
            continue
        dfs(m,path+[m])
for n in sorted(g): dfs(n,[n])
print('cycles:', len(found))
