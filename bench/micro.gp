# Bar chart of the micro-benchmarks: every system relative to troupe, one cluster per workload.
# Called by run-micro.sh: gnuplot -e "datafile='...'; outbase='...'" micro.gp
# datafile: a header row "workload troupe peer1 peer2 ...", one row per workload, each value the
# system's result relative to troupe's (higher is better; troupe is 1), "nan" where it has none.
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top vertical
set logscale y 2
set ylabel "relative to troupe (troupe = 1; higher is better; log scale)"
set grid ytics
set title "troupe micro-benchmarks: every system relative to troupe"
set datafile missing "nan"
columns = system("head -1 '".datafile."' | wc -w") + 0
do for [format in "pngcairo svg"] {
  if (format eq "pngcairo") {
    set terminal pngcairo size 1000,520 font ",10"
    set output outbase.".png"
  } else {
    set terminal svg size 1000,520 font ",10"
    set output outbase.".svg"
  }
  plot for [c=2:columns] datafile using c:xtic(1) title columnheader(c), 1 with lines dashtype 2 lc rgb "black" notitle
  unset output
}
