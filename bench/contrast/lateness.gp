# Bar chart of the hog workload's lateness: one cluster per model, bars for the median, the 99th
# percentile and the maximum of how late the ticks were handled. A log scale: the models differ by
# factors of a hundred (microseconds for pre-empted threads, the whole burst for an event loop).
# Called by compare.sh: gnuplot -e "datafile='...'; outbase='...'" lateness.gp
# datafile: a header row "model p50 p99 max", then one row per model, in milliseconds.
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top vertical
set ylabel "how late a tick was handled (ms, log scale; lower is better)"
set logscale y
set yrange [0.01:*]
set grid ytics
set xtics noenhanced
set title "troupe contrast: the hog workload — ticks while tasks compute without yielding"
do for [format in "pngcairo svg"] {
  if (format eq "pngcairo") {
    set terminal pngcairo size 1000,520 font ",10"
    set output outbase.".png"
  } else {
    set terminal svg size 1000,520 font ",10"
    set output outbase.".svg"
  }
  # A zero (a tick exactly on time) has no place on a log scale: drawn at the axis' floor.
  plot for [c=2:4] datafile using (column(c) > 0.01 ? column(c) : 0.01):xtic(1) title columnheader(c)
  unset output
}
