# Does a small BPE vocabulary built from the simulator's corpus shorten sequences enough to matter?
import random, re, collections
random.seed(0)
animals="fox owl cat dog horse rabbit tiger whale eagle otter badger lion wolf bear mouse deer frog snake goat sheep".split()
places="river forest meadow garden mountain village lake desert field barn cave shore".split()
verbs="runs sleeps walks hides waits plays swims sings rests hunts".split()
adjs="quiet small brave old happy gentle clever tired".split()
kw="moon sun rain snow light stone wind song".split()
def constraint():
    c=random.choice(["end","lower","nocomma","kw","count"])
    if c=="end": w=random.choice(places); return f"ends with the word {w}",("end",w)
    if c=="lower": return "is all lowercase",("lower",None)
    if c=="nocomma": return "has no commas",("nocomma",None)
    if c=="kw": w=random.choice(kw); return f"contains the word {w}",("kw",w)
    n=random.randint(4,12); return f"has exactly {n} words",("count",n)
def sentence(cs):
    a=random.choice(animals); words=["the",random.choice(adjs),a,random.choice(verbs),"near","the",random.choice(places)]
    for _,(t,v) in cs:
        if t=="kw": words.insert(3,v)
        if t=="end": words[-1]=v
    s=" ".join(words)+"."
    if not any(t=="lower" for _,(t,_v) in cs) and random.random()<0.5: s=s[0].upper()+s[1:]
    return s
def example():
    cs=[constraint() for _ in range(random.randint(1,2))]
    prompt=f"Write a sentence about a {random.choice(animals)} that "+" and ".join(c for c,_ in cs)+"."
    resp=sentence(cs)
    r=random.random()
    if r<1/3: return f"A|{prompt}\n{resp}"
    if r<2/3: return f"J|{prompt}|{resp}\n"+random.choice(["yes","no: "+cs[0][0]])
    return f"R|{prompt}|{resp}|no: {cs[0][0]}\n{resp}"
train=[example() for _ in range(4000)]; test=[example() for _ in range(1000)]
pat=re.compile(r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+")
def words(t): return pat.findall(t)
def bpe(corpus, merges):
    counts=collections.Counter(w for t in corpus for w in words(t))
    vocab={tuple(w.encode()):c for w,c in counts.items()}
    rules=[]
    for _ in range(merges):
        pairs=collections.Counter()
        for w,c in vocab.items():
            for p in zip(w,w[1:]): pairs[p]+=c
        if not pairs: break
        best=max(pairs,key=pairs.get); rules.append(best); new=best
        nv={}
        for w,c in vocab.items():
            out=[];i=0
            while i<len(w):
                if i+1<len(w) and (w[i],w[i+1])==best: out.append(("M",best)); i+=2
                else: out.append(w[i]); i+=1
            nv[tuple(out)]=nv.get(tuple(out),0)+c
        vocab=nv
    return rules
def encode_len(t, rules):
    total=0
    for w in words(t):
        seq=list(w.encode())
        for r in rules:
            out=[];i=0
            while i<len(seq):
                if i+1<len(seq) and (seq[i],seq[i+1])==r: out.append(("M",r)); i+=2
                else: out.append(seq[i]); i+=1
            seq=out
        total+=len(seq)
    return total
bytes_mean=sum(len(t.encode()) for t in test)/len(test)
print(f"held-out examples: mean {bytes_mean:.1f} bytes")
for m in (64,256,1024):
    rules=bpe(train,m)
    L=sum(encode_len(t,rules) for t in test[:300])/300
    print(f"BPE {m} merges (vocab {256+m}): mean {L:.1f} tokens = {L/ (sum(len(t.encode()) for t in test[:300])/300):.2f} of bytes")
