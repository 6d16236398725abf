# Independent Python re-implementation of masks/rng.hpp and the sampler of masks/distributions.cpp:
# prints the golden document lengths checked by test_mask_identities.cpp. Usage: NAME SEED TOTAL
import json, re, sys
M=(1<<64)-1
def splitmix(state):
    state=(state+0x9E3779B97F4A7C15)&M; z=state
    z=((z^(z>>30))*0xBF58476D1CE4E5B9)&M; z=((z^(z>>27))*0x94D049BB133111EB)&M
    return state, z^(z>>31)
class Rng:
    def __init__(self, seed, stream=0):
        sm=(seed ^ ((stream*0xD1B54A32D192ED03)&M))&M; self.s=[]
        for _ in range(4): sm,v=splitmix(sm); self.s.append(v)
    def next(self):
        s=self.s; rotl=lambda x,k: ((x<<k)|(x>>(64-k)))&M
        r=(rotl((s[1]*5)&M,7)*9)&M; t=(s[1]<<17)&M
        s[2]^=s[0]; s[3]^=s[1]; s[1]^=s[2]; s[0]^=s[3]; s[2]^=t; s[3]=rotl(s[3],45); return r
    def below(self,n):
        m=self.next()*n; low=m&M
        if low<n:
            th=((1<<64)-n)%n
            while low<th: m=self.next()*n; low=m&M
        return m>>64
    def between(self,lo,hi): return lo+self.below(hi-lo+1)
def sample(name, seed, total):
    d=json.load(open('/work/shared/data/doc-lengths/%s.json'%name))
    b=[(int(a),int(c),round(v*1e6)) for k,v in d.items() for a,c in [re.match(r'\[(\d+),(\d+)\)',k).groups()]]
    W=sum(x[2] for x in b); rng=Rng(seed); out=[]; filled=0
    while filled<total:
        pick=rng.below(W); i=0
        while pick>=b[i][2]: pick-=b[i][2]; i+=1
        l=rng.between(max(b[i][0],1), b[i][1]-1); l=min(max(l,1),total-filled); out.append(l); filled+=l
    return out
print(",".join(map(str,sample(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))))
