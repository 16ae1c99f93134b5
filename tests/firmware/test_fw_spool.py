"""The spool's on-flash behaviour on the unix port: power-cut leftovers, order, caps and in-flight batches."""
from __future__ import annotations

import json
from pathlib import Path

from mpy_harness import bundles, run_script  # noqa: F401

SCRIPT = """
import json, os
from spool import Spool
out = {}
def text(parts):
    b = b""
    for p in parts:
        if isinstance(p, tuple):
            with open(p[0], "rb") as f:
                f.seek(p[1])
                b += f.read(p[2])
        else:
            b += bytes(p)
    return b.decode()
os.mkdir("spool")
with open("spool/00000001_2", "wb") as f:
    f.write(b',{"seq":1,"t":1}' + b',{"seq":2,"t":2}')
with open("spool/00000002.tmp", "wb") as f:
    f.write(b',{"seq":3')                     # a write the power cut interrupted
s = Spool("spool", max_readings=6, segment_readings=2)
out["after_cut"] = [sorted(os.listdir("spool")), s.pending]
s.append(b',{"seq":10,"t":10}')
key, parts, n = s.next_batch()               # oldest first: the flash segment, not the RAM tail
out["first"] = [text(parts), n]
s.append(b',{"seq":11,"t":11}')               # RAM tail is full (2) while the segment is in flight
out["flushed_while_in_flight"] = sorted(os.listdir("spool"))
s.nack(key)
for i in range(12, 18):
    s.append(b',{"seq":%d,"t":%d}' % (i, i))
out["capped"] = [s.pending, s.dropped, sorted(os.listdir("spool"))]
got = []
while True:
    b = s.next_batch()
    if b is None:
        break
    got.append(text(b[1]))
    s.ack(b[0])
out["drained"] = got
out["empty"] = [s.pending, sorted(os.listdir("spool"))]
print(json.dumps(out))
"""


def test_spool_survives_a_power_cut_keeps_order_and_drops_the_oldest_when_full(
    micropython: str, bundles: dict[str, Path], tmp_path: Path
) -> None:
    out = json.loads(run_script(micropython, bundles["soil"], SCRIPT, tmp_path))
    assert out["after_cut"] == [["00000001_2"], 2], "the half-written segment is discarded, the complete one kept"
    assert out["first"] == ['{"v":1,"readings":[{"seq":1,"t":1},{"seq":2,"t":2}]}', 2]
    assert out["flushed_while_in_flight"] == ["00000001_2", "00000002_2"], "the in-flight segment is never appended to"
    # 2 + 2 + 6 more = 10 readings > 6: the oldest segments go, counted
    assert out["capped"][0] <= 6 and out["capped"][1] == 10 - out["capped"][0]
    seqs = [r["seq"] for b in out["drained"] for r in json.loads(b)["readings"]]
    assert seqs == sorted(seqs) and seqs[-1] == 17 and len(seqs) == out["capped"][0], "oldest first, newest kept"
    assert out["empty"] == [0, ["dropped"]], "acknowledged segments are deleted; the drop count stays on flash"


FRAGMENTED = """
import gc, json, os
from spool import Spool
os.mkdir("spool")
s = Spool("spool", max_readings=1000, segment_readings=500)  # a tail that would grow to ~10 KB
# Fill the heap with small blocks and free every other one: half of it is free, in holes of a few
# dozen bytes, as a night of allocations leaves it. A growing tail then finds no block to move to.
junk = [None] * 3000
reserve = bytearray(256)  # room for the loop below to run once the heap is full
n = 0
try:
    while n < len(junk):
        junk[n] = bytearray(40)
        n += 1
except MemoryError:
    pass
reserve = None
for i in range(0, n, 2):
    junk[i] = None
gc.collect()
for i in range(200):
    s.append(b',{"seq":%d,"t":%d}' % (i, i))
spilled = s.on_flash
junk = None
gc.collect()
seqs = []
while True:
    b = s.next_batch()
    if b is None:
        break
    for p in b[1]:
        if isinstance(p, tuple):
            with open(p[0], "rb") as f:
                f.seek(p[1])
                p = f.read(p[2])
        seqs.append(bytes(p).decode())
    s.ack(b[0])
print(json.dumps({"spilled": spilled, "pending": s.pending, "text": "".join(seqs)}))
"""


def test_a_fragmented_heap_spills_the_tail_to_flash_and_loses_nothing(
    micropython: str, bundles: dict[str, Path], tmp_path: Path
) -> None:
    out = json.loads(run_script(micropython, bundles["soil"], FRAGMENTED, tmp_path))
    assert out["spilled"] > 0, "the tail could not grow in place: it went to flash"
    body = out["text"].replace('{"v":1,"readings":[', "").replace("]}", ",")
    seqs = [int(x.split(":")[1]) for x in body.split(",") if x.startswith('{"seq"')]
    assert seqs == list(range(200)), "every record, once, in order"
    assert out["pending"] == 0
