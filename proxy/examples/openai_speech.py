"""The official Python `openai` client against the proxy, unchanged: whole answers, every format, streaming.

    pip install openai            # (offline here: pip install --index-url file:///opt/pypi/simple openai)
    python3 proxy/examples/openai_speech.py http://127.0.0.1:8080/v1 "$(cat data/demo-key.txt)"
"""

import sys

from openai import OpenAI

base_url, api_key = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=base_url, api_key=api_key)

# The quickstart call: voice "alloy", no format → MP3.
speech = client.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input="Hello from IndexTTS2.")
speech.write_to_file("hello.mp3")
print("hello.mp3", len(speech.content), "bytes")

# Every response format, with emotion steered by instructions.
for fmt in ["mp3", "opus", "aac", "flac", "wav", "pcm"]:
    audio = client.audio.speech.create(
        model="tts-1",
        voice="nova",
        input="Every format the OpenAI clients know.",
        response_format=fmt,
        instructions="Speak in a happy tone.",
        speed=1.25,
    )
    print(fmt, audio.response.headers.get("content-type"), len(audio.content), "bytes")

# Streaming: the audio arrives piece by piece as it is made (stream_format "audio").
with client.audio.speech.with_streaming_response.create(
    model="tts-1",
    voice="coral",
    input="The first sentence is sent while the second is still being made. Here is the second one.",
    response_format="mp3",
    extra_body={"stream_format": "audio"},
) as response:
    chunks = 0
    with open("streamed.mp3", "wb") as out:
        for chunk in response.iter_bytes():
            chunks += 1
            out.write(chunk)
    print("streamed.mp3 in", chunks, "chunks")

print([m.id for m in client.models.list()])
