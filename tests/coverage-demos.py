#!/usr/bin/env python3
"""Coverage of lib/ per demo, for instructors.

Run by `meson compile -C BUILD coverage-demos` in a build set up with
-Db_coverage=true. For each demo of `mpshare list` it clears the
counters, runs the demo alone (both halves, under fork and then spawn),
and has gcovr write what lib/ lines ran into BUILD/coverage-demos/ID.json.
From those it writes BUILD/coverage-demos/index.html: per demo the lib/
functions it reaches and its share of lib/'s lines; per function the
demos that reach it; for a pitfall with an error code, the lines of lib/
that raise that code, marked where the demo really ran them.

It clears the counters of the whole build, so do not run it while
`meson test` runs in the same build.
"""

import argparse
import html
import json
import os
import re
import subprocess
import sys

START_METHODS = ("fork", "spawn")


def list_demos(mpshare):
    """(id, kind) for each line of `mpshare list`, in its order."""
    out = subprocess.run([mpshare, "list"], check=True, capture_output=True,
                         text=True, env=dict(os.environ, NO_COLOR="1")).stdout
    demos, kind = [], "pitfall"
    for line in out.splitlines():
        if line.startswith("Worked samples"):
            kind = "sample"
        m = re.match(r"^  ([a-z][a-z0-9-]+)\s{2,}\S", line)
        if m:
            demos.append((m.group(1), kind))
    if not demos:
        sys.exit("coverage-demos: `mpshare list` listed no demo")
    return demos


def error_codes_by_pitfall(source):
    """{pitfall id: MP_ERROR_ name} from mp-error.c's table of codes."""
    text = open(os.path.join(source, "lib", "mp-error.c")).read()
    rows = re.findall(r'\[(MP_ERROR_[A-Z_]+)\]\s*=\s*\{\s*"[^"]*",\s*"([^"]+)"',
                      text)
    return {pitfall: code for code, pitfall in rows}


def raising_lines(source, code):
    """[(file, line)] of lib/ where an error of @code is set: the line of
    the code in a call to mp_set_error(), g_set_error() and the like. A
    code registered as a type's refusal is raised by the serializer with
    the registered code: those lines count for it too."""
    def call(what):
        return re.compile(r"\b\w*set_error\w*\s*\(\s*[^,;()]+,\s*"
                          r"(?:MP_ERROR,\s*)?(%s)(?!\w)" % what)
    texts = {}
    lib = os.path.join(source, "lib")
    for name in sorted(os.listdir(lib)):
        if name.endswith(".c"):
            with open(os.path.join(lib, name)) as f:
                texts["lib/" + name] = f.read()
    patterns = [call(code)]
    registered = re.compile(r"register_refusal\s*\([^,;]+,\s*%s\b" % code)
    if any(registered.search(text) for text in texts.values()):
        patterns.append(call(r"entry->code"))
    found = []
    for name, text in texts.items():
        for pattern in patterns:
            for m in pattern.finditer(text):
                found.append((name, text.count("\n", 0, m.start(1)) + 1))
    return sorted(found)


def clear_counters(build):
    for root, _, files in os.walk(build):
        for name in files:
            if name.endswith(".gcda"):
                os.unlink(os.path.join(root, name))


def run_demo(build, demo):
    """Runs both halves of @demo under each start method; the exit
    statuses (a demo exits 0 when both verdicts hold)."""
    statuses = {}
    for method in START_METHODS:
        proc = subprocess.run([os.path.join(build, "demos", demo),
                               "--start-method", method],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=300)
        statuses[method] = proc.returncode
    return statuses


def gcovr_json(gcovr, source, build, exclude, path):
    subprocess.run([gcovr, "--root", source, "--object-directory", build,
                    "--filter", os.path.join(source, "lib"),
                    "--exclude-lines-by-pattern", exclude,
                    "--json", path], check=True,
                   stdout=subprocess.DEVNULL)
    with open(path) as f:
        return json.load(f)


def function_at(functions, line):
    """The function of a file whose first line is the last at or before
    @line (gcov gives where functions start, not where they end)."""
    best = None
    for fn in functions:
        if fn["lineno"] <= line and (best is None or
                                     fn["lineno"] > best["lineno"]):
            best = fn
    return best["name"] if best else "?"


def summarize(report):
    """Lines of lib/ that count, {(file, line)} run, {(file, function)}
    run, and the count of every line."""
    total, run, functions, counts = 0, set(), set(), {}
    for f in report["files"]:
        for line in f["lines"]:
            if line["gcovr/noncode"] or line.get("gcovr/excluded"):
                continue
            total += 1
            counts[(f["file"], line["line_number"])] = line["count"]
            if line["count"] > 0:
                run.add((f["file"], line["line_number"]))
        for fn in f["functions"]:
            if fn["execution_count"] > 0:
                functions.add((f["file"], fn["name"]))
    return total, run, functions, counts


CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;
color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left;
vertical-align:top}
th{background:#f3f3f3}
.bar{display:inline-block;height:.8em;background:#4a7bd0}
.raise{background:#ffe2c6}
.ran{color:#176d17;font-weight:bold}
.notrun{color:#999}
code{font-size:90%}
details{margin:.3em 0 1em}
"""


def bar(share):
    return '<span class="bar" style="width:%dpx"></span>' % round(share * 200)


def write_page(path, demos, results, function_demos, lib_total):
    e = html.escape
    out = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
           "<title>mpshare: coverage of lib/ per demo</title>",
           "<style>%s</style></head><body>" % CSS,
           "<h1>Coverage of <code>lib/</code> per demo</h1>",
           "<p>Each demo ran alone, both halves, under %s; the counters "
           "were cleared before each. A line counts when gcov saw it run "
           "in any process the demo started. %d lines of <code>lib/</code> "
           "count (argument checks left out, as in the suite's report)."
           "</p>" % (" and ".join(START_METHODS), lib_total),
           "<h2>Demos</h2><table><tr><th>demo</th><th>kind</th>"
           "<th>exit status</th><th>lines of lib/</th><th>share</th>"
           "<th>functions</th></tr>"]
    for demo, kind in demos:
        r = results[demo]
        share = r["run"] / lib_total if lib_total else 0
        status = ", ".join("%s %d" % kv for kv in r["status"].items())
        out.append("<tr><td><a href='#%s'>%s</a></td><td>%s</td><td>%s</td>"
                   "<td>%d</td><td>%s %.1f %%</td><td>%d</td></tr>"
                   % (e(demo), e(demo), kind, e(status), r["run"],
                      bar(share), 100 * share, len(r["functions"])))
    union = set().union(*(results[d]["ran"] for d, _ in demos))
    reached = sum(1 for ds in function_demos.values() if ds)
    share = len(union) / lib_total if lib_total else 0
    out.append("<tr><th colspan=3>all demos together</th><th>%d</th>"
               "<th>%s %.1f %%</th><th>%d</th></tr></table>"
               % (len(union), bar(share), 100 * share, reached))

    for demo, kind in demos:
        r = results[demo]
        out.append("<h2 id='%s'>%s</h2>" % (e(demo), e(demo)))
        if r["code"] is None:
            out.append("<p>No error code: %s.</p>" % (
                "a worked sample" if kind == "sample" else
                "this pitfall raises nothing, its failure is a wrong result"))
        else:
            out.append("<p>The failure path: the lines of <code>lib/</code> "
                       "that raise <code>%s</code>.</p><table><tr><th>"
                       "line</th><th>function</th><th>runs</th></tr>"
                       % e(r["code"]))
            for file, line, fn, count in r["raises"]:
                cls = "ran" if count else "notrun"
                out.append("<tr class='raise'><td><code>%s:%d</code></td>"
                           "<td><code>%s</code></td><td class='%s'>%s</td>"
                           "</tr>" % (e(file), line, e(fn), cls,
                                      count if count else "not run"))
            out.append("</table>")
        by_file = {}
        for file, fn in sorted(r["functions"]):
            by_file.setdefault(file, []).append(fn)
        out.append("<details><summary>%d functions reached</summary><table>"
                   % len(r["functions"]))
        raisers = {(f, fn) for f, _, fn, c in r["raises"] if c}
        for file, fns in by_file.items():
            cells = ", ".join(
                "<code%s>%s</code>" % (" class='raise'" if (file, fn) in
                                       raisers else "", e(fn))
                for fn in fns)
            out.append("<tr><td><code>%s</code></td><td>%s</td></tr>"
                       % (e(file), cells))
        out.append("</table></details>")

    out.append("<h2>Functions of lib/ and the demos that reach them</h2>"
               "<table><tr><th>function</th><th>file</th><th>demos</th></tr>")
    for (file, fn), reached in sorted(function_demos.items()):
        out.append("<tr><td><code>%s</code></td><td><code>%s</code></td>"
                   "<td>%s</td></tr>" % (
                       e(fn), e(file),
                       ", ".join(e(d) for d in reached) or
                       "<span class='notrun'>none</span>"))
    out.append("</table></body></html>")
    with open(path, "w") as f:
        f.write("\n".join(out))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--gcovr", default="gcovr")
    p.add_argument("--exclude", default="$^")
    args = p.parse_args()
    source, build = os.path.abspath(args.source), os.path.abspath(args.build)
    outdir = os.path.join(build, "coverage-demos")
    os.makedirs(outdir, exist_ok=True)

    demos = list_demos(os.path.join(build, "demos", "mpshare"))
    codes = error_codes_by_pitfall(source)
    results, all_functions, lib_total = {}, set(), 0
    for demo, kind in demos:
        clear_counters(build)
        status = run_demo(build, demo)
        report = gcovr_json(args.gcovr, source, build, args.exclude,
                            os.path.join(outdir, demo + ".json"))
        total, run, functions, counts = summarize(report)
        lib_total = max(lib_total, total)
        for f in report["files"]:
            all_functions.update((f["file"], fn["name"])
                                 for fn in f["functions"])
        code = codes.get(demo)
        raises = []
        if code is not None:
            fns = {f["file"]: f["functions"] for f in report["files"]}
            for file, line in raising_lines(source, code):
                raises.append((file, line, function_at(fns.get(file, []), line),
                               counts.get((file, line), 0)))
        results[demo] = dict(status=status, run=len(run), ran=run,
                             functions=functions,
                             code=code, raises=raises)
        print("%-24s %5.1f %% of lib/, %3d functions%s" % (
            demo, 100 * len(run) / total if total else 0, len(functions),
            "" if all(s == 0 for s in status.values()) else
            "  (exit %s)" % status))
    clear_counters(build)

    function_demos = {key: [d for d, _ in demos
                            if key in results[d]["functions"]]
                      for key in all_functions}
    page = os.path.join(outdir, "index.html")
    write_page(page, demos, results, function_demos, lib_total)
    print("wrote", page)


if __name__ == "__main__":
    main()
