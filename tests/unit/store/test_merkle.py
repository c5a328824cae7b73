"""The Merkle tree against RFC 6962 reference vectors and transparency-dev's probes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from events.merkle import (
    EMPTY_ROOT,
    CompactTree,
    NodeKey,
    ProofError,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    nodes_for,
    range_hash,
    range_nodes,
    root_of,
    verify_consistency,
    verify_inclusion,
)

# transparency-dev/merkle testonly/constants.go: LeafInputs, NodeHashes and RootHashes.
LEAF_INPUTS = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
               "606162636465666768696a6b6c6d6e6f"]  # fmt: skip
NODE_HASHES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
PROBES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "transparency_dev_probes.json").read_text()
)


def _b64(values: list[str] | None) -> list[bytes]:
    return [base64.b64decode(v) for v in values or []]


def _one(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _all_nodes(leaves: list[bytes]) -> dict[NodeKey, bytes]:
    tree = CompactTree()
    return {(lvl, idx): h for leaf in leaves for lvl, idx, h in tree.append(leaf)}


def _prove(ranges: list[tuple[int, int]], nodes: dict[NodeKey, bytes]) -> list[bytes]:
    return [range_hash(a, b, nodes) for a, b in ranges]


LEAVES = [leaf_hash(bytes.fromhex(x)) for x in LEAF_INPUTS]
NODES = _all_nodes(LEAVES)


def test_the_empty_tree_has_the_hash_of_the_empty_string_as_root() -> None:
    assert EMPTY_ROOT.hex() == ROOTS[0]
    assert root_of([]) == EMPTY_ROOT


def test_every_complete_subtree_matches_the_reference_node_hashes() -> None:
    for level, hashes in enumerate(NODE_HASHES):
        for index, expected in enumerate(hashes):
            assert NODES[(level, index)].hex() == expected


@pytest.mark.parametrize("size", range(9))
def test_roots_of_every_size_match_the_reference_roots(size: int) -> None:
    assert root_of(LEAVES[:size]).hex() == ROOTS[size]
    assert range_hash(0, size, NODES).hex() == ROOTS[size]


def test_a_resumed_compact_tree_continues_where_the_stored_frontier_left_off() -> None:
    for size in range(9):
        frontier = [NODES[k] for k in range_nodes(0, size)]
        tree = CompactTree(size, frontier)
        for leaf in LEAVES[size:]:
            tree.append(leaf)
        assert tree.root().hex() == ROOTS[8]


@pytest.mark.parametrize("probe", PROBES["inclusion"], ids=[p["file"] for p in PROBES["inclusion"]])
def test_inclusion_probes_verify_exactly_when_expected(probe: dict[str, Any]) -> None:
    args = (_one(probe["leafHash"]), probe["leafIdx"], probe["treeSize"])
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args, _b64(probe["proof"]), _one(probe["root"]))
        return
    verify_inclusion(*args, _b64(probe["proof"]), _one(probe["root"]))
    # And the proof we would serve is the reference proof, byte for byte.
    ranges = inclusion_ranges(probe["leafIdx"], probe["treeSize"])
    assert _prove(ranges, NODES) == _b64(probe["proof"])


@pytest.mark.parametrize(
    "probe", PROBES["consistency"], ids=[p["file"] for p in PROBES["consistency"]]
)
def test_consistency_probes_verify_exactly_when_expected(probe: dict[str, Any]) -> None:
    args = (probe["size1"], probe["size2"], _one(probe["root1"]), _one(probe["root2"]))
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args, _b64(probe["proof"]))
        return
    verify_consistency(*args, _b64(probe["proof"]))
    ranges = consistency_ranges(probe["size1"], probe["size2"])
    assert _prove(ranges, NODES) == _b64(probe["proof"])


def test_every_proof_of_every_small_tree_verifies_and_needs_log_n_nodes() -> None:
    leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(70)]
    nodes = _all_nodes(leaves)
    for size in range(1, 71):
        root = range_hash(0, size, nodes)
        assert root == root_of(leaves[:size])
        for index in range(size):
            ranges = inclusion_ranges(index, size)
            verify_inclusion(leaves[index], index, size, _prove(ranges, nodes), root)
            assert len(nodes_for(ranges)) <= 2 * size.bit_length()
        for old in range(1, size + 1):
            ranges = consistency_ranges(old, size)
            old_root = range_hash(0, old, nodes)
            verify_consistency(old, size, old_root, root, _prove(ranges, nodes))
            assert len(nodes_for(ranges)) <= 2 * size.bit_length()


def test_a_proof_for_another_leaf_or_a_changed_root_is_refused() -> None:
    ranges = inclusion_ranges(3, 7)
    proof = _prove(ranges, NODES)
    root = range_hash(0, 7, NODES)
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[4], 3, 7, proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[3], 3, 7, proof, range_hash(0, 6, NODES))
    with pytest.raises(ProofError):
        verify_consistency(
            3, 7, range_hash(0, 4, NODES), root, _prove(consistency_ranges(3, 7), NODES)
        )
