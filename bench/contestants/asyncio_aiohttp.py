# (d) What the product is measured against outside Node: the asyncio script a Python user writes for the same job.
# aiohttp with a connection limit and a semaphore of `concurrency`, each request under asyncio.wait_for (the
# per-request deadline volley has too), results taken in completion order (as_completed), lxml for the title and
# the links (C, the fastest parser Python has; on the event loop, as such scripts do).
# Prints {"wall": seconds, "rows": [...]}; bench/main.mjs checks the rows like every other contestant's.
import asyncio
import json
import sys
import time
from urllib.parse import urljoin

import aiohttp
import lxml.html

cfg = json.loads(sys.argv[1])
prefix = {"huge": "h", "big": "b"}.get(cfg["kind"], "s")
urls = [f"{cfg['base']}/{prefix}/{i}" for i in range(cfg["n"])]
want_links = bool(cfg.get("links"))
TIMEOUT_S = 30


async def main():
    sem = asyncio.Semaphore(cfg["concurrency"])
    connector = aiohttp.TCPConnector(limit=cfg["concurrency"], limit_per_host=cfg["concurrency"])
    rows = []
    async with aiohttp.ClientSession(connector=connector, auto_decompress=True) as session:

        async def one(url):
            async with sem:
                async def go():
                    async with session.get(url) as res:
                        return res.status, await res.read()

                status, body = await asyncio.wait_for(go(), TIMEOUT_S)
            return url, status, body

        tasks = [one(url) for url in urls]
        for fut in asyncio.as_completed(tasks):
            url, status, body = await fut
            title, links = None, 0
            if body:
                doc = lxml.html.document_fromstring(body)
                el = doc.find(".//title")
                title = el.text_content() if el is not None else None
                if want_links:
                    links = len({urljoin(url, a.get("href")).split("#")[0] for a in doc.iterfind(".//a[@href]")})
            rows.append({"url": url, "status": status, "title": title, "links": links})
    return rows


started = time.perf_counter()
rows = asyncio.run(main())
print(json.dumps({"wall": time.perf_counter() - started, "rows": rows}))
