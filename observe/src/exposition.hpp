// A writer of Prometheus text exposition format 0.0.4: metric families, each with its HELP and
// TYPE lines, and their samples with escaped label values. prometheus_text.cpp says what troupe
// exposes; this says how it is written.
#pragma once

#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace troupe::observe::detail {

struct Label {
  std::string_view name;
  std::string_view value;
};

// A number as Prometheus reads it (Go's ParseFloat): the shortest text that reads back as the
// same value; +Inf, -Inf and NaN for the others.
inline void append_number(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char text[32];
    const auto [end, error] = std::to_chars(text, text + sizeof text, value);
    out.append(text, end);
  }
}

template <std::integral Integer>
void append_number(std::string& out, Integer value) {
  char text[24];
  const auto [end, error] = std::to_chars(text, text + sizeof text, value);
  out.append(text, end);
}

// A label value between its quotes: backslash, double quote and line feed are escaped, the
// format's only escapes (any other byte, UTF-8 included, stands as it is).
inline void append_label_value(std::string& out, std::string_view value) {
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// HELP text: backslash and line feed are escaped (a double quote is not, there).
inline void append_help(std::string& out, std::string_view help) {
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

class Exposition {
 public:
  // Starts the family `name`, of `type` (counter, gauge or histogram). Its HELP and TYPE lines
  // are written with its first sample: a family without samples leaves no line at all.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    name_ = name;
    type_ = type;
    help_ = help;
    announced_ = false;
  }

  // One sample of the current family: its name followed by `suffix` (a histogram's _bucket, _sum,
  // _count), the labels, and the value.
  template <class Number>
  void sample(std::initializer_list<Label> labels, Number value, std::string_view suffix = {}) {
    announce();
    out_ += name_;
    out_ += suffix;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const Label& label : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += label.name;
        out_ += "=\"";
        append_label_value(out_, label.value);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    append_number(out_, value);
    out_ += '\n';
  }

  std::string take() { return std::move(out_); }

 private:
  void announce() {
    if (announced_) return;
    announced_ = true;
    out_ += "# HELP ";
    out_ += name_;
    out_ += ' ';
    append_help(out_, help_);
    out_ += "\n# TYPE ";
    out_ += name_;
    out_ += ' ';
    out_ += type_;
    out_ += '\n';
  }

  std::string out_;
  std::string_view name_;
  std::string_view type_;
  std::string_view help_;
  bool announced_ = false;
};

}  // namespace troupe::observe::detail
