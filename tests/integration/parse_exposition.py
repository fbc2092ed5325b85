#!/usr/bin/python3
"""Parses Prometheus text exposition from stdin with the prometheus_client library (Debian's
python3-prometheus-client) and prints the samples as JSON: a real parser, so the tests fail on
anything a Prometheus server would reject."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

samples = []
families = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    families[family.name] = family.type
    for s in family.samples:
        samples.append({"name": s.name, "labels": s.labels, "value": s.value,
                        "timestamp": None if s.timestamp is None else float(s.timestamp)})
json.dump({"families": families, "samples": samples}, sys.stdout)
