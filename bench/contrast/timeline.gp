# A timeline: one row per thread or worker, time on the x axis, each span a bar coloured by what
# the thread was doing — the classic picture of CPU-bound and I/O-bound threads.
# Called by compare.sh: gnuplot -e "datafile='...'; outbase='...'; heading='...'[; xmax=MS]" timeline.gp
# xmax, when given, is where the time axis ends (compare.sh gives the longest of a workload's
# timelines, so that the models of one workload can be compared at a glance).
# datafile: troupe-contrast's timeline data (--trace-dir), one span per line:
#   row start_ms end_ms activity "thread name"
# activity: 0 working, 1 waiting for a lock, 2 waiting for I/O, 3 parked (timeline.hpp).
# Writes outbase.png and outbase.svg.
stats datafile using 1:3 nooutput
rows = int(STATS_max_x) + 1
end_ms = exists("xmax") ? xmax : STATS_max_y

working = 0x2e8b57   # green
lock = 0xd62728      # red
io = 0x1f77b4        # blue
parked = 0xc8c8c8    # light grey
colour(a) = a == 0 ? working : a == 1 ? lock : a == 2 ? io : parked
half = 0.35          # half a bar's height, in rows
pixel_ms = end_ms / 850.0  # about one pixel of the plot's width

set title heading noenhanced
set xlabel "time since the first span (ms)"
set xrange [0:end_ms]
set yrange [rows - 0.5:-0.5]   # the first row at the top
set ytics nomirror noenhanced
set xtics nomirror
set grid xtics
set key outside below horizontal noenhanced
set style fill solid 1.0 noborder
height = 150 + 34 * rows
do for [format in "pngcairo svg"] {
  if (format eq "pngcairo") {
    set terminal pngcairo size 1000,height font ",10"
    set output outbase.".png"
  } else {
    set terminal svg size 1000,height font ",10"
    set output outbase.".svg"
  }
  # Each span: a box from start to end, half a row high each side of its row. Spans shorter than
  # a pixel are drawn again on top as a hairline (the vectors), so a short turn is not lost.
  plot datafile using (($2 + $3) / 2):1:2:3:($1 - half):($1 + half):(colour($4)):ytic(5) with boxxyerror lc rgb variable notitle, \
       datafile using ($3 - $2 < pixel_ms ? $2 : NaN):($1 - half):(0):(2 * half):(colour($4)) \
                with vectors nohead lw 2 lc rgb variable notitle, \
       NaN with boxes lc rgb working title "working (computing, running an actor)", \
       NaN with boxes lc rgb lock title "waiting for a lock (mutex, GIL)", \
       NaN with boxes lc rgb io title "waiting for I/O or a timer (a socket, epoll, a sleep)", \
       NaN with boxes lc rgb parked title "parked (a worker with nothing to run)"
  unset output
}
