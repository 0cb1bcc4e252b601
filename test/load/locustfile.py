"""Locust load test for the IndexTTS2 stack, as the article ran it, plus the metered proxy.

Two user classes (pick one on the command line):

  NodeUser   POSTs the article's exact payload to a gpu-node's /synthesize (no key):
             locust -f test/load/locustfile.py NodeUser --host http://127.0.0.1:8001
  ProxyUser  POSTs the same text to the proxy's /v1/tts with an API key (TTS_API_KEY):
             TTS_API_KEY=tts_... locust -f test/load/locustfile.py ProxyUser --host http://127.0.0.1:8080

Both wait between(1, 3) seconds between requests, as the article's locustfile (override with TTS_WAIT_MIN and
TTS_WAIT_MAX), and mark any non-200 answer, or a 200 that is not a WAV, as a failure.

TTS_ARTICLE_RAMP=1 adds the article's ramp as a LoadTestShape: 10 users, +2 a second, up to TTS_RAMP_MAX (50),
held for TTS_RAMP_HOLD seconds (30), then stop.

Headless with CSV output, which `npm run capacity -- ingest --locust-csv out/run` turns into the capacity report:
  locust -f test/load/locustfile.py NodeUser --host URL --headless -u 20 -r 2 -t 60s --csv out/run
Distributed: the same with --master --expect-workers N, and N times --worker; the master writes the CSV.
"""

import os

import gevent
import locust.runners
import locust.stats
from locust import HttpUser, LoadTestShape, between, events, task

# Write the CSV history to disk every second (Locust's default is every 10 s, which loses the history of short runs).
locust.stats.CSV_STATS_FLUSH_INTERVAL_SEC = 1


@events.quit.add_listener
def _let_the_csv_writer_catch_up(**_kwargs):
    """Locust rewrites its --csv files once a second and exits right after the last user stops, so requests that
    finished during the stop timeout (-s) would be missing from them. One more second lets the writer record them."""
    gevent.sleep(locust.stats.CSV_STATS_INTERVAL_SEC + 0.2)


# Debian's python3-locust (2.12.1-1) ships an empty version string, and a master refuses a worker that reports an
# empty version as "an old (pre 2.0) worker", so distributed runs never start. Master and worker both load this
# file, so giving them the same non-empty version here makes them agree. Other installs keep their real version.
if not locust.runners.__version__:
    locust.runners.__version__ = "0.0.0+unversioned"

ARTICLE_PAYLOAD = {
    "text": "欢迎使用IndexTTS2语音合成服务,支持情感调节和多音色选择。",
    "emotion": "happy",
    "speaker_id": 0,
    "speed": 1.0,
}

WAIT = between(float(os.environ.get("TTS_WAIT_MIN", "1")), float(os.environ.get("TTS_WAIT_MAX", "3")))


def check(response):
    """Non-200, or a 200 whose body is not a WAV file, is a failure."""
    if response.status_code != 200:
        response.failure(f"HTTP {response.status_code}")
    elif not response.content.startswith(b"RIFF"):
        response.failure("200 without a WAV body")
    else:
        response.success()


class NodeUser(HttpUser):
    """The article's user: POST /synthesize on a gpu-node with the article's payload."""

    abstract = os.environ.get("TTS_USER", "") == "proxy"
    wait_time = WAIT

    @task
    def synthesize(self):
        with self.client.post("/synthesize", json=ARTICLE_PAYLOAD, catch_response=True, name="/synthesize") as r:
            check(r)


class ProxyUser(HttpUser):
    """A paying customer: POST /v1/tts on the proxy with an API key."""

    abstract = os.environ.get("TTS_USER", "") == "node"
    wait_time = WAIT

    def on_start(self):
        key = os.environ.get("TTS_API_KEY")
        if not key:
            raise RuntimeError("ProxyUser needs TTS_API_KEY (a proxy API key)")
        self.client.headers["Authorization"] = f"Bearer {key}"

    @task
    def tts(self):
        body = {"text": ARTICLE_PAYLOAD["text"], "emotion": "happy", "voice": 0, "speed": 1.0}
        with self.client.post("/v1/tts", json=body, catch_response=True, name="/v1/tts") as r:
            check(r)


if os.environ.get("TTS_ARTICLE_RAMP") == "1":

    class ArticleRamp(LoadTestShape):
        """The article's ramp: start at 10 users, add 2 a second, up to TTS_RAMP_MAX, hold, stop."""

        start_users = 10
        step = 2
        max_users = int(os.environ.get("TTS_RAMP_MAX", "50"))
        hold_s = float(os.environ.get("TTS_RAMP_HOLD", "30"))

        def tick(self):
            t = self.get_run_time()
            ramp_s = (self.max_users - self.start_users) / self.step
            if t > ramp_s + self.hold_s:
                return None
            return (min(self.max_users, self.start_users + self.step * int(t)), max(self.start_users, self.step))
