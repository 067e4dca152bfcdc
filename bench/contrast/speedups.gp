# Bar chart of speedups over sequential, one cluster per workload, one bar per model.
# Called by compare.sh: gnuplot -e "datafile='...'; outbase='...'" speedups.gp
# datafile: a table with a header row "workload model1 model2 ...", one row per workload,
# "nan" where a model did not run that workload.
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top vertical
set ylabel "speedup over sequential (higher is better)"
set yrange [0:*]
set grid ytics
set title "troupe contrast: speedup per workload and model"
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
  plot for [c=2:columns] datafile using c:xtic(1) title columnheader(c)
  unset output
}
