# bench-plot.gp - the plots of doc/BENCHMARKS.md from the CSV of
# "shmkit bench --csv FILE" (make bench-plot runs both).
#
#   gnuplot -e "csv='bench.csv'; outdir='doc'" doc/bench-plot.gp
#
# Writes OUTDIR/bench-latency.svg (median round trip by message size) and
# OUTDIR/bench-throughput.svg (one-way bytes per second by message size).
#
# CSV columns: 1 section, 2 transport, 3 mode, 4 size, 5 n, 6 median_ns,
# 7 p10_ns, 8 p90_ns, 9 p99_ns, 10 msgs_per_s, 11 bytes_per_s, 12 cpu_a_pct,
# 13 cpu_b_pct, 14 idle_s, 15 x_raw_atomic, 16 x_raw_wait, 17 x_pipe,
# 18 x_memcpy, 19 note.
#
# SPDX-License-Identifier: BSD-2-Clause

if (!exists("csv")) csv = "bench.csv"
if (!exists("outdir")) outdir = "."

set datafile separator ","
# Undefined values (rows of other series) are skipped without breaking the
# lines (gnuplot 5.4 and later).
set datafile missing NaN
set terminal svg size 960,600 dynamic enhanced font "Helvetica,12" background "white"
set grid xtics ytics mytics lc rgb "#dddddd"
set key outside right top vertical Left reverse noenhanced
set logscale x 2
set logscale y 10
set xtics ("64 B" 64, "256 B" 256, "1 KiB" 1024, "4 KiB" 4096, "16 KiB" 16384, \
           "64 KiB" 65536, "256 KiB" 262144, "1 MiB" 1048576)

# The value of column COL in rows of SECTION, TRANSPORT and MODE, else
# undefined (the point is left out).
pick(section, transport, mode, col) = \
    (strcol(1) eq section && strcol(2) eq transport && strcol(3) eq mode) ? column(col) : NaN

# ---- latency ------------------------------------------------------------

# The reference rows do not depend on the message size: horizontal lines.
stats csv using (strcol(2) eq "raw-atomic" ? $6 / 1000.0 : NaN) nooutput
raw_atomic = STATS_records > 0 ? STATS_max : NaN
stats csv using (strcol(2) eq "raw-wait" ? $6 / 1000.0 : NaN) nooutput
raw_wait = STATS_records > 0 ? STATS_max : NaN
stats csv using (strcol(1) eq "latency" && $4 > 0 ? $4 : NaN) nooutput
lat_min = STATS_min
lat_max = STATS_max

set output outdir . "/bench-latency.svg"
set title "Round-trip latency between two processes (median)"
set xlabel "message size"
set ylabel "round trip (microseconds)"
set xrange [lat_min / 1.5 : lat_max * 1.5]
set yrange [*:*]

lat(t, m) = sprintf("%s %s", t, m)
plot \
    raw_atomic title "raw-atomic (reference)" with lines lw 2 dt 2 lc rgb "#000000", \
    raw_wait title "raw-wait (reference)" with lines lw 2 dt 3 lc rgb "#000000", \
    csv using 4:(pick("latency", "slot", "adaptive", 6) / 1000.0) title "slot adaptive" \
        with linespoints lw 2 pt 7 lc rgb "#1f77b4", \
    csv using 4:(pick("latency", "slot", "spin", 6) / 1000.0) title "slot spin" \
        with linespoints lw 1 dt 2 pt 7 lc rgb "#1f77b4", \
    csv using 4:(pick("latency", "slot", "block", 6) / 1000.0) title "slot block" \
        with linespoints lw 1 dt 3 pt 6 lc rgb "#1f77b4", \
    csv using 4:(pick("latency", "ring", "adaptive", 6) / 1000.0) title "ring adaptive" \
        with linespoints lw 2 pt 5 lc rgb "#2ca02c", \
    csv using 4:(pick("latency", "ring", "spin", 6) / 1000.0) title "ring spin" \
        with linespoints lw 1 dt 2 pt 5 lc rgb "#2ca02c", \
    csv using 4:(pick("latency", "ring", "block", 6) / 1000.0) title "ring block" \
        with linespoints lw 1 dt 3 pt 4 lc rgb "#2ca02c", \
    csv using 4:(pick("latency", "ring-zc", "adaptive", 6) / 1000.0) title "ring-zc adaptive" \
        with linespoints lw 2 pt 9 lc rgb "#9467bd", \
    csv using 4:(pick("latency", "ring-zc", "spin", 6) / 1000.0) title "ring-zc spin" \
        with linespoints lw 1 dt 2 pt 9 lc rgb "#9467bd", \
    csv using 4:(pick("latency", "ring-zc", "block", 6) / 1000.0) title "ring-zc block" \
        with linespoints lw 1 dt 3 pt 8 lc rgb "#9467bd", \
    csv using 4:(pick("latency", "pipe", "-", 6) / 1000.0) title "pipe" \
        with linespoints lw 2 pt 11 lc rgb "#d62728", \
    csv using 4:(pick("latency", "unix", "-", 6) / 1000.0) title "UNIX socket" \
        with linespoints lw 2 pt 13 lc rgb "#ff7f0e", \
    csv using 4:(pick("latency", "posix-mq", "-", 6) / 1000.0) title "POSIX mq" \
        with linespoints lw 2 pt 15 lc rgb "#8c564b", \
    csv using 4:(pick("latency", "sysv-mq", "-", 6) / 1000.0) title "System V mq" \
        with linespoints lw 2 pt 3 lc rgb "#e377c2"

# ---- throughput ---------------------------------------------------------

stats csv using (strcol(1) eq "throughput" ? $4 : NaN) nooutput
tp_min = STATS_min
tp_max = STATS_max

set output outdir . "/bench-throughput.svg"
set title "One-way throughput between two processes"
set ylabel "GB/s (10^9 bytes per second)"
set xrange [tp_min / 1.5 : tp_max * 1.5]
set yrange [*:*]
plot \
    csv using 4:(pick("throughput", "memcpy", "-", 11) / 1e9) title "memcpy, one process (copy limit)" \
        with linespoints lw 2 dt 2 pt 1 lc rgb "#000000", \
    csv using 4:(pick("throughput", "ring", "-", 11) / 1e9) title "ring (copy)" \
        with linespoints lw 2 pt 5 lc rgb "#2ca02c", \
    csv using 4:(pick("throughput", "ring-zc", "-", 11) / 1e9) title "ring zero-copy" \
        with linespoints lw 2 pt 9 lc rgb "#9467bd", \
    csv using 4:(pick("throughput", "pipe", "-", 11) / 1e9) title "pipe" \
        with linespoints lw 2 pt 11 lc rgb "#d62728", \
    csv using 4:(pick("throughput", "unix", "-", 11) / 1e9) title "UNIX socket" \
        with linespoints lw 2 pt 13 lc rgb "#ff7f0e"
