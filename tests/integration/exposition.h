#pragma once

// /_/varz as a Prometheus server reads it: parsed by prometheus_client's parser.

#include "harness.h"
#include <nlohmann/json.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace harness {

// Runs the exposition through prometheus_client's parser (tests/integration/parse_exposition.py).
inline nlohmann::json parse_exposition(const std::string& text) {
    std::string in = harness::servers_base() + "/exposition.txt";
    std::FILE* f = std::fopen(in.c_str(), "w");
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    std::string cmd = "/usr/bin/python3 " + std::string(REP_SOURCE_DIR) +
                      "/tests/integration/parse_exposition.py < " + in;
    std::FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
        out.append(buf, n);
    }
    int status = pclose(p);
    if (status != 0) {
        throw std::runtime_error("exposition does not parse:\n" + text.substr(0, 3000));
    }
    return nlohmann::json::parse(out);
}

// Sum of the samples named `name` whose labels include `labels`; -1 if there is none. The
// parser names the samples of a counter `<name>_total` even when the exposition calls them
// `<name>` (as MOLT's lockset_*_count and log_message_count are, and as Prometheus stores
// them): such a counter is found by its exposition name.
inline double sample(const nlohmann::json& parsed, const std::string& name,
                     const nlohmann::json& labels = nlohmann::json::object()) {
    std::string wanted = name;
    if (parsed["families"].contains(name) && parsed["families"][name] == "counter" &&
        name.size() > 6 && name.compare(name.size() - 6, 6, "_total") != 0) {
        wanted = name + "_total";
    }
    double total = -1;
    for (const auto& s : parsed["samples"]) {
        if (s["name"] != wanted) {
            continue;
        }
        bool match = true;
        for (const auto& [k, v] : labels.items()) {
            match &= s["labels"].contains(k) && s["labels"][k] == v;
        }
        if (match) {
            total = (total < 0 ? 0 : total) + s["value"].get<double>();
        }
    }
    return total;
}

}  // namespace harness
