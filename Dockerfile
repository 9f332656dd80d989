# digitlab in a container: one Streamlit process on port 8501. compose.yaml runs several of them
# behind HAProxy, sharing the /data volume (the class board, the wall and the training slots).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The pinned runtime first, in its own layer: a change to the code does not reinstall TensorFlow.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# The app runs as an unprivileged user that can write only its data folder; the code stays root's.
# /data is made and handed over before VOLUME, so a new named volume starts with that owner.
RUN groupadd --gid 10001 digitlab \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin digitlab \
    && mkdir -p /data \
    && chown digitlab:digitlab /data

COPY . .

# The SQLite file and the pen-digit cache live here, shared by every replica.
ENV DIGITLAB_DATA_DIR=/data
VOLUME ["/data"]

USER 10001:10001
EXPOSE 8501

# slim has no curl: Python's urllib asks Streamlit's own health endpoint. A non-2xx answer raises, and
# the body must be "ok": Streamlit answers any unknown path with 200 and its index page.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"]

CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true"]
