"""Split a prefix's key space into listing shards from a cheap sample of probe listings.

A shard is a key range ``(start_after, end]``: it lists after ``start_after`` and stops
past ``end`` (ListingSource.marker / end_marker; None = to the end of the prefix).
Consecutive shards share their boundary, the first starts after "" and the last has no
end, so every key under the prefix lies in exactly one shard whatever the boundaries
are; the sample only decides how even the shards are.

The sample walks the key trie one character at a time: a probe lists up to 1,000 keys
under a node prefix after a marker; every child (next character) the page passes is
closed with an exact count, the last one stays open. Open children are weighted by one
descent (Knuth's tree-size estimate: siblings look alike) and the heaviest nodes are
expanded, level by level, until each is a small share of a shard or the request budget
is spent. Probes that pages already listed imply cost nothing, and the ones the walk can
guess are listed together (ossbatch/probepages.py): the split costs round trips, not
requests. Cost: docs/decisions/listing-shards.md.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from handlers.listing import ListingPage

from .probepages import ProbePages

PAGE = 1000
TOP = "\U0010ffff"  # sorts after every other character: p + TOP bounds the keys under p
GRAIN = 4  # expand until a node is at most 1/GRAIN of one shard's share
# past that, refine guesses only while the sample costs under this share of the listing itself
REFINE_SHARE = 0.02

# list_page(prefix, marker, max_keys) -> ListingPage (handlers.listing)
ListPage = Callable[[str, str, int], ListingPage]


@dataclass(frozen=True)
class KeyRange:
    start_after: str  # exclusive; "" = from the first key
    end: str | None  # inclusive; None = to the last key under the prefix
    estimated_keys: int


@dataclass
class Node:
    """Keys starting with ``prefix`` (or exactly ``prefix`` when ``self_key``)."""

    prefix: str
    seen: int  # keys a probe listed under it
    closed: bool  # seen is the exact count
    self_key: bool = False
    weight: float = 0.0

    @property
    def upper(self) -> str:
        """A boundary string at or after every key of this node and before the next node's."""
        return self.prefix if self.self_key else self.prefix + TOP


@dataclass
class KeySplit:
    ranges: list[KeyRange]
    requests: int
    estimated_keys: int
    exact: bool  # every key was seen by the sample: the estimate is the count
    seen_keys: int = 0  # distinct keys the probes listed: a hard floor of the total
    mean_size: float | None = None  # bytes per key over every probe page (None: no keys)

    @property
    def estimated_bytes(self) -> int | None:
        return None if self.mean_size is None else round(self.mean_size * self.estimated_keys)


@dataclass
class Sampler:
    pages: ProbePages
    children_of: dict[str, list[Node]] = field(default_factory=dict)
    runless: set[str] = field(default_factory=set)  # nodes whose shared run is known: none

    @property
    def requests(self) -> int:
        return self.pages.requests

    @property
    def budget(self) -> int:
        return self.pages.budget

    @property
    def page_size(self) -> int:
        return self.pages.page_size

    @property
    def mean_size(self) -> float | None:
        objects, size = self.pages.listed
        return size / objects if objects else None

    def probe(self, prefix: str, marker: str) -> ListingPage:
        return self.pages.get(prefix, marker)

    def children(self, prefix: str) -> list[Node]:
        """The child nodes of ``prefix`` in key order, by probes that skip each open child."""
        if prefix in self.children_of:
            return self.children_of[prefix]
        nodes: list[Node] = []
        page = self.first_page(prefix)
        shared = self.shared_run(prefix, page)
        if shared:
            # every key continues with the same run of characters: one node, any depth;
            # its first page is this one and every longer run was already ruled out
            self.pages.alias(shared, "", page)
            self.runless.add(shared)
            self.children_of[prefix] = [Node(shared, len(page.objects), closed=False)]
            return self.children_of[prefix]
        guesses = _characters(page, len(prefix) + 1)
        while True:
            for obj in page.objects:
                self_key = obj.key == prefix
                child = prefix if self_key else obj.key[: len(prefix) + 1]
                if nodes and nodes[-1].prefix == child and nodes[-1].self_key == self_key:
                    nodes[-1].seen += 1
                else:
                    nodes.append(Node(child, 1, closed=True, self_key=self_key))
            if not page.truncated or not page.objects:
                break
            last = nodes[-1]
            last.closed = last.self_key
            # skip the rest of the open child; the page's last key keeps the marker moving
            marker = max(last.upper, page.objects[-1].key)
            if self.pages.known(prefix, marker) is None:
                if self.pages.spent:
                    break
                self.pages.prefetch(prefix, self.skips(prefix, marker, guesses, page))
            page = self.probe(prefix, marker)
        self.children_of[prefix] = nodes
        return nodes

    def first_page(self, prefix: str) -> ListingPage:
        """The node's first page; one implied only in part (it runs to the end of a parent's
        page) is listed again for whether more follow, along with the walk's next probe."""
        page = self.probe(prefix, "")
        if page.truncated and page.objects and self.pages.listed_page(prefix, "") is None:
            child = page.objects[-1].key[: len(prefix) + 1]
            after = max(child + TOP, page.objects[-1].key)
            skips = self.skips(prefix, after, _characters(page, len(prefix) + 1), page)
            self.pages.prefetch_pages([(prefix, "")] + [(prefix, m) for m in skips])
            page = self.pages.listed_page(prefix, "") or page
        return page

    def skips(self, prefix: str, marker: str, guesses: list[str], page: ListingPage) -> list[str]:
        """The walk's next probe and, listed with it, the skips past the children it guesses
        come next: siblings look alike, so the first child's own fan-out (``guesses``)."""
        ahead = [prefix + c + TOP for c in guesses if prefix + c + TOP > marker]
        # a wrong guess costs one request, a right one a round trip
        markers = [marker, *ahead[: self.pages.width - 1]]
        if len({o.key[: len(prefix) + 1] for o in page.objects}) <= 1:
            # children fill a page each: a guessed skip only has to find where the next starts
            self.pages.short.update((prefix, m) for m in markers[1:])
        return markers

    def shared_run(self, prefix: str, first: ListingPage) -> str:
        """The longest run every key under ``prefix`` starts with, when longer than one character.

        Each probe after ``run + TOP`` either finds nothing (the run is shared) or a key
        that shortens the run; the next shorter runs are probed along with it, so a deep
        common prefix of any length costs a round trip or two.
        """
        if not first.truncated or not first.objects or prefix in self.runless:
            return ""
        run = _common_prefix([first.objects[0].key, first.objects[-1].key])
        while len(run) > len(prefix) + 1:
            marker = run + TOP
            if self.pages.known(prefix, marker) is None:
                if self.pages.spent:
                    return ""
                # a run usually ends a character or two earlier (digits, a path's last part);
                # one character is where the walk's first skip goes when no run is shared
                lengths = {len(run) - 1, len(run) - 2, len(prefix) + 1}
                shorter = [run[:n] + TOP for n in sorted(lengths, reverse=True) if n > len(prefix)]
                self.pages.prefetch(prefix, [marker, *shorter])
            beyond = self.probe(prefix, marker).objects  # a parent's probe often answers
            if not beyond:
                return run
            shorter_run = _common_prefix([run, beyond[-1].key])
            if shorter_run == run:  # keys past run + TOP (U+10FFFF in names): enumerate instead
                return ""
            run = shorter_run
        return ""

    def weigh(self, prefix: str, depth: int = 0) -> float:
        """Estimated keys under ``prefix``: exact children plus open ones like a sampled sibling."""
        nodes = self.children(prefix)
        exact = sum(n.seen for n in nodes if n.closed)
        open_nodes = [n for n in nodes if not n.closed]
        if not open_nodes:
            return float(exact)
        # at the first branchings, two samples (first and last open child) tame uneven fan-outs
        picks = {len(open_nodes) // 2} if depth >= 3 else {0, len(open_nodes) - 1}
        below = depth + (len(open_nodes) > 1)

        def sample(node: Node) -> float:
            if not self.pages.spent:
                node.weight = max(float(node.seen), self.weigh(node.prefix, below))
            else:
                node.weight = float(node.seen)
            return node.weight

        chosen = [open_nodes[i] for i in sorted(picks)]
        if len(chosen) > 1:  # the two descents are independent: their probes overlap in time
            with ThreadPoolExecutor(len(chosen)) as pool:
                weights = list(pool.map(sample, chosen))
        else:
            weights = [sample(chosen[0])]
        like = sum(weights) / len(weights)
        return exact + sum(max(float(n.seen), like) for n in open_nodes)


def split_key_space(
    list_page: ListPage,
    prefix: str,
    shards: int,
    *,
    budget: int | None = None,
    parallel: int = 8,
    page_size: int = PAGE,
) -> KeySplit:
    """Up to ``shards`` ranges covering every key under ``prefix``, about equally full."""
    shards = max(1, shards)
    budget = budget if budget is not None else default_budget(shards)
    sampler = Sampler(ProbePages(list_page, page_size, budget, parallel))
    first = sampler.probe(prefix, "")
    if shards == 1 and first.truncated:  # one range needs no sample; the total stays a floor
        n = len(first.objects)
        return KeySplit([KeyRange("", None, n)], 1, n, False, n, sampler.mean_size)
    if not first.truncated:
        keys = [o.key for o in first.objects]
        ranges = _split_listed(keys, shards)
        return KeySplit(ranges, sampler.requests, len(keys), True, len(keys), sampler.mean_size)
    total = sampler.weigh(prefix)
    nodes = _spread(sampler.children(prefix), total)
    with ThreadPoolExecutor(parallel) as pool:
        while sampler.requests < sampler.budget and shards > 1:
            # expansions close nodes with exact counts: the share follows the better total
            target = sum(n.weight for n in nodes) / (shards * GRAIN)
            splittable = [n for n in nodes if not n.self_key]
            # open heavy nodes first; a closed node is re-probed only when it would fill half
            # a shard; past that, the refine share turns open nodes' guesses into counts
            heavy = [n for n in splittable if not n.closed and n.weight > target]
            heavy = heavy or [n for n in splittable if n.weight > target * GRAIN / 2]
            if not heavy and sampler.requests < total / sampler.page_size * REFINE_SHARE:
                heavy = [n for n in splittable if not n.closed]
            if not heavy:
                break
            heavy = sorted(heavy, key=lambda n: -n.weight)[: max(1, parallel)]
            # concurrent probes write distinct cache entries; the counter is advisory
            list(pool.map(lambda n: sampler.children(n.prefix), heavy))
            if sampler.requests >= sampler.budget:
                break
            nodes = _expand(nodes, {n.prefix for n in heavy}, sampler)
    exact = all(n.closed for n in nodes)
    seen = sum(n.seen for n in nodes)  # the final nodes are disjoint: no key counted twice
    # expansions can close nodes below the first weighing's guess: the total is never below a floor
    estimated = max(round(sum(n.weight for n in nodes)), seen)
    return KeySplit(
        _cut(nodes, shards), sampler.requests, estimated, exact, seen, sampler.mean_size
    )


def default_budget(shards: int) -> int:
    """Probe listings the split may spend: a fixed descent plus a few per shard."""
    return 100 + 10 * shards


def _characters(page: ListingPage, depth: int) -> list[str]:
    """The characters the page's keys have at ``depth``, in order."""
    return sorted({o.key[depth] for o in page.objects if len(o.key) > depth})


def _common_prefix(keys: list[str]) -> str:
    if not keys:
        return ""
    low, high = min(keys), max(keys)
    n = 0
    while n < min(len(low), len(high)) and low[n] == high[n]:
        n += 1
    return low[:n]


def _spread(nodes: list[Node], total: float) -> list[Node]:
    """Give open nodes an equal share of what the exact ones leave of ``total``."""
    exact = sum(n.seen for n in nodes if n.closed)
    open_nodes = [n for n in nodes if not n.closed]
    share = (total - exact) / len(open_nodes) if open_nodes else 0.0
    for n in nodes:
        n.weight = float(n.seen) if n.closed else max(float(n.seen), share)
    return list(nodes)


def _expand(nodes: list[Node], prefixes: set[str], sampler: Sampler) -> list[Node]:
    out: list[Node] = []
    for n in nodes:
        if n.prefix in prefixes and not n.self_key:
            out.extend(_spread(sampler.children_of[n.prefix], n.weight))
        else:
            out.append(n)
    return out


def _split_listed(keys: list[str], shards: int) -> list[KeyRange]:
    """Ranges of keys all seen in one page: cut at every n/shards-th key."""
    count = max(1, min(shards, len(keys)))
    ends = [keys[len(keys) * i // count - 1] for i in range(1, count)]
    starts = ["", *ends]
    return [
        KeyRange(
            starts[i],
            ends[i] if i < len(ends) else None,
            len(keys) * (i + 1) // count - len(keys) * i // count,
        )
        for i in range(count)
    ]


def _cut(nodes: list[Node], shards: int) -> list[KeyRange]:
    """Cut the ordered nodes where the running weight crosses each shard's share."""
    total = sum(n.weight for n in nodes)
    if total <= 0 or shards == 1 or len(nodes) < 2:
        return [KeyRange("", None, round(total))]
    ranges: list[KeyRange] = []
    start, running, in_range = "", 0.0, 0.0
    for i, n in enumerate(nodes[:-1]):
        running += n.weight
        in_range += n.weight
        goal = total * (len(ranges) + 1) / shards
        next_weight = nodes[i + 1].weight
        # cut here when stopping now is closer to the goal than taking the next node too
        if len(ranges) < shards - 1 and abs(running - goal) <= abs(running + next_weight - goal):
            ranges.append(KeyRange(start, n.upper, round(in_range)))
            start, in_range = n.upper, 0.0
    ranges.append(KeyRange(start, None, round(in_range + nodes[-1].weight)))
    return ranges
