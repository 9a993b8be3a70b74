#!/usr/bin/env python3
"""The banhanh benchmark: builds generated corpora and prints medians.

    cargo build --release
    python3 benches/bench.py                 # 10,000 and 100,000 directives
    python3 benches/bench.py --counts 10000 --runs 5

For each corpus (../shared/bench/gen_corpus.py --seed 1) it measures, as
medians over --runs runs:
  - a full build into an empty folder: wall time, CPU time, peak RSS
    (the full builds of every corpus first, then the rebuilds);
  - the same build without its search index (BANHANH_BENCH_NO_SEARCH_INDEX,
    alternating with the full builds), and the share the index adds, from
    the medians and run by run (each full build against the one without
    the index just before it);
  - a rebuild with nothing changed: wall time, and whether any output file
    was rewritten (bytes or modification time);
  - a rebuild after editing one directive: wall time, files written;
and prints the output size and the search index size. Python 3 standard
library only; Linux (os.wait4).

Every timed build starts after `sync`, so that the kernel is not writing
the previous build's output to disk during it (3 GB at 100,000
directives). Each full build goes into a folder that does not exist.
Earlier outputs are renamed aside and deleted only when every timing is
done: on ext4 without a journal (as on our 2-core machines), files deleted
in the last minutes are skipped one by one at every new file the kernel
allocates, so a build run right after deleting the previous output also
times that deletion (5 to 14 s of kernel time at 100,000 directives).
--delete-before measures that case, which is what
../shared/bench/vs_hugo.py does for both tools. The effect
lasts minutes: leave five minutes after any large deletion, this
benchmark's own cleanup included, before timing builds again.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
GEN = os.path.join(REPO, "..", "shared", "bench", "gen_corpus.py")


def run(cmd, env=None):
    # The previous build's gigabytes would otherwise be written to disk by
    # the kernel during this one, on the same two cores.
    os.sync()
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss": ru.ru_maxrss / 1024, "err": err}


def tree_state(folder):
    state = {}
    for d, _, files in os.walk(folder):
        for f in files:
            p = os.path.join(d, f)
            st = os.stat(p)
            state[os.path.relpath(p, folder)] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return state


def size_of(folder):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(folder) for f in fs)


def median(xs):
    return statistics.median(xs)


class Trash:
    """Folders set aside during the timings, deleted at the end."""

    def __init__(self, work, delete_before):
        self.dir = os.path.join(work, "trash")
        self.delete_before = delete_before
        self.n = 0
        os.makedirs(self.dir, exist_ok=True)

    def discard(self, folder):
        if not os.path.exists(folder):
            return
        if self.delete_before:
            shutil.rmtree(folder)
            return
        self.n += 1
        os.rename(folder, os.path.join(self.dir, f"{os.getpid()}-{self.n}"))

    def empty(self):
        if self.n:
            print(f"\nremoving {self.n} earlier outputs; builds in the next five minutes"
                  " will be slower (see the top of this file)")
        shutil.rmtree(self.dir, ignore_errors=True)


def corpus(binary, count, work):
    """The corpus's folder (generated if missing), its output folder, and
    the command that builds one into the other."""
    site = os.path.join(work, f"site{count}")
    if not os.path.isdir(os.path.join(site, "content")):
        subprocess.run([sys.executable, GEN, "--count", str(count), "--seed", "1",
                        "--out", os.path.join(site, "content")], check=True, stdout=subprocess.DEVNULL)
    out = os.path.join(work, f"out{count}")
    return site, out, [binary, "build", "--root", site, "--out", out]


def full_builds(binary, count, runs, work, trash):
    """Full builds into a new folder, each after one without the search
    index (for the index's share); the last output stays for rebuilds."""
    _, out, cmd = corpus(binary, count, work)
    bare_out = out + "-no-index"
    bare_cmd = cmd[:-1] + [bare_out]
    bare_env = dict(os.environ, BANHANH_BENCH_NO_SEARCH_INDEX="1")
    full, bare = [], []
    for _ in range(runs):
        for folder in (out, bare_out):
            trash.discard(folder)
            cache = os.path.join(work, f".{os.path.basename(folder)}.banhanh-cache")
            if os.path.exists(cache):
                os.remove(cache)
        bare.append(run(bare_cmd, bare_env))
        full.append(run(cmd))
    trash.discard(bare_out)
    return full, bare


def rebuilds(binary, count, runs, work):
    """Rebuilds with nothing changed, then with one directive edited. An
    edited build swaps in a new output and deletes the old one, which
    slows file creation for minutes (see above): they run after every
    full build."""
    site, out, cmd = corpus(binary, count, work)
    nochange, rewritten = [], 0
    for _ in range(runs):
        before = tree_state(out)
        nochange.append(run(cmd))
        after = tree_state(out)
        rewritten += sum(1 for k, v in after.items() if before.get(k) != v) + len(set(before) - set(after))

    # Edit one directive, build, and put it back (so each run edits anew).
    target = None
    for d, _, files in os.walk(os.path.join(site, "content", "directives")):
        for f in sorted(files):
            target = os.path.join(d, f)
            break
        if target:
            break
    original = open(target, encoding="utf-8").read()
    onefile = []
    for i in range(runs):
        open(target, "w", encoding="utf-8").write(original.replace("subject: ", f"subject: Sửa {i} - ", 1))
        r = run(cmd)
        onefile.append(r)
    open(target, "w", encoding="utf-8").write(original)
    run(cmd)
    return nochange, rewritten, onefile, out


def report(count, runs, builds, nochange, rewritten, onefile, out):
    full, bare = builds
    search = os.path.join(out, "search")
    wall, bare_wall = median([r['wall'] for r in full]), median([r['wall'] for r in bare])
    print(f"\n{count} directives ({runs} runs, medians)")
    print(f"  full build        wall {wall:6.2f} s   cpu {median([r['cpu'] for r in full]):6.2f} s   peak RSS {median([r['rss'] for r in full]):7.0f} MiB")
    # Each full build runs right after one without the index: their ratio
    # is what the index adds at that moment, whatever the machine's speed
    # then (it drifts by a fifth from hour to hour on our machines).
    paired = sorted(100 * (f["wall"] - b["wall"]) / b["wall"] for f, b in zip(full, bare))
    print(f"  without the index wall {bare_wall:6.2f} s   cpu {median([r['cpu'] for r in bare]):6.2f} s   "
          f"(the index adds {100 * (wall - bare_wall) / bare_wall:.0f}%; run by run "
          f"{median(paired):.0f}%, {paired[0]:.0f} to {paired[-1]:.0f}%)")
    walls = sorted(r["wall"] for r in full)
    print(f"  full build walls  {walls[0]:.2f} to {walls[-1]:.2f} s")
    print(f"  no-change rebuild wall {median([r['wall'] for r in nochange]):6.2f} s   files rewritten: {rewritten}")
    written = [line for r in onefile for line in r["err"].splitlines() if "written" in line]
    print(f"  one-file rebuild  wall {median([r['wall'] for r in onefile]):6.2f} s   ({written[-1].strip() if written else ''})")
    print(f"  output {size_of(out) / 2**20:8.1f} MiB   search index {size_of(search) / 2**20 if os.path.isdir(search) else 0:6.1f} MiB")


# Disk taken by one output, per directive (36 KB at 10,000 and 100,000),
# and by the generated corpus.
OUTPUT_PER_DIRECTIVE = 40 * 1024
CORPUS_PER_DIRECTIVE = 13 * 1024


def check_space(work, counts, runs, delete_before):
    """Stops before any timing when the outputs kept aside until the end
    (two per run, and the rebuilds' one) would fill the disk: a build that
    runs out of space fails, and the deletions after it would slow the
    next timings down."""
    kept = 1 if delete_before else 2 * runs
    need = sum((kept + 1) * c * OUTPUT_PER_DIRECTIVE
               + (0 if os.path.isdir(os.path.join(work, f"site{c}", "content")) else c * CORPUS_PER_DIRECTIVE)
               for c in counts)
    free = shutil.disk_usage(work).free
    if need > free:
        sys.exit(f"{work}: {free / 2**30:.1f} GiB free, and these timings keep about "
                 f"{need / 2**30:.1f} GiB of outputs until they end; free some space, or "
                 "use fewer --runs or --counts, or --delete-before")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--banhanh", default=os.path.join(REPO, "target", "release", "banhanh"))
    ap.add_argument("--counts", default="10000,100000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/banhanh-bench")
    ap.add_argument("--delete-before", action="store_true",
                    help="delete the previous output just before each full build")
    a = ap.parse_args()
    if not os.path.isfile(GEN):
        sys.exit(f"the corpus generator is missing: {GEN}")
    os.makedirs(a.work, exist_ok=True)
    walls = {}
    binary, work = os.path.abspath(a.banhanh), os.path.abspath(a.work)
    counts = [int(c) for c in a.counts.split(",")]
    check_space(work, counts, a.runs, a.delete_before)
    trash = Trash(work, a.delete_before)
    try:
        full = {count: full_builds(binary, count, a.runs, work, trash) for count in counts}
        for count in counts:
            report(count, a.runs, full[count], *rebuilds(binary, count, a.runs, work))
            walls[count] = median([r["wall"] for r in full[count][0]])
    finally:
        trash.empty()
    if 10000 in walls and 100000 in walls:
        print(f"\ngrowth 10,000 -> 100,000: x{walls[100000] / walls[10000]:.1f} (linear is x10)")


if __name__ == "__main__":
    main()
