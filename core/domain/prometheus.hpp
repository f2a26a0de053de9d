// The Prometheus text exposition format's one escaping rule, shared by
// walletd's /metrics (daemon/metrics.cpp) and the cron jobs' textfiles
// (reconcile/job_metrics.cpp).
#pragma once

#include <string>
#include <string_view>

namespace wallet {

// A label value as written between double quotes: backslash, double quote
// and newline escaped (\\, \", \n), everything else as it is.
std::string prometheus_label_value(std::string_view value);

}  // namespace wallet
