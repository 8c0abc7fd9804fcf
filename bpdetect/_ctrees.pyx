# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled evaluation of boosted decision trees on raw float32 features (bpdetect.model's fast path).

A ``Forest`` holds every tree of one boosting stage as a single flat array of 16-byte nodes (scikit-learn's
node order, children after their parent). A split sends a row left when its float32 value is ``<= threshold``,
and a NaN value left when the split's missing bit is set: the test of scikit-learn's raw-data predictor
(``_predict_one_from_raw_data``). bpdetect.model gives float32 thresholds that decide every float32 value as
scikit-learn's float64 ones do, with its quantization of block features folded in, so nothing is ever binned.

A leaf is a node that points to itself and sends every value left, so a walk that reaches a leaf stays there.
That lets the kernel walk a tree for a block of rows in lockstep, at most the tree's depth in steps, with no
per-row branch: the rows' walks are independent chains the processor overlaps, and no mispredicted "is it a leaf
yet?" branch stalls them (one test per step stops early once no row of the block moved). Each row's raw score is the baseline plus the leaf values in
tree order, the order (and float64 arithmetic) of scikit-learn's ``_raw_predict``, so the sums are bitwise equal.
"""

from libc.math cimport exp
from libc.stdint cimport int32_t, uint32_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy


cdef enum:
    # Node.column: bit 31 set = NaN values go left; bit 30 set = the column is in the second matrix (the stacked
    # context features); the low 30 bits = the column index.
    SECOND = 0x40000000
    COLUMN = 0x3FFFFFFF
    # Rows walked together through one tree (their chains overlap; the block's state stays in registers / L1).
    BLOCK = 16


cdef struct Node:
    float threshold  # go left when value <= threshold
    uint32_t column  # column index | SECOND | bit 31 (NaN goes left)
    int32_t child[2]  # left, right (indices into the forest's nodes); a leaf's children are the leaf itself


cdef class Forest:
    """The trees of one boosting stage as one flat node array, evaluated by a C loop over rows and trees."""

    cdef Node* nodes
    cdef double* values
    cdef int32_t* roots
    cdef int32_t* depths
    cdef readonly int n_nodes
    cdef readonly int n_trees
    cdef readonly double baseline
    cdef readonly int n_first  # columns the first matrix must have (1 + the largest first-matrix column read)
    cdef readonly int n_second  # the same for the second matrix

    def __cinit__(
        self,
        const float[::1] threshold,
        const uint32_t[::1] column,
        const int32_t[::1] left,
        const int32_t[::1] right,
        const double[::1] value,
        const int32_t[::1] roots,
        double baseline,
    ):
        """Copy the nodes (tree t spans roots[t] up to the next root) after checking that every walk stays in
        its tree and ends on a leaf; the depth of each tree is the number of steps its walks take."""
        cdef int n = threshold.shape[0], n_trees = roots.shape[0], i, t, start, end, k
        cdef uint32_t c
        cdef int32_t* depth
        if column.shape[0] != n or left.shape[0] != n or right.shape[0] != n or value.shape[0] != n:
            raise ValueError("the node arrays differ in length")
        if n_trees == 0 or roots[0] != 0:
            raise ValueError("the first tree must start at node 0")
        self.nodes = <Node*>malloc(n * sizeof(Node))
        self.values = <double*>malloc(n * sizeof(double))
        self.roots = <int32_t*>malloc(n_trees * sizeof(int32_t))
        self.depths = <int32_t*>malloc(n_trees * sizeof(int32_t))
        depth = <int32_t*>malloc(n * sizeof(int32_t))
        if not self.nodes or not self.values or not self.roots or not self.depths or not depth:
            free(depth)
            raise MemoryError()
        try:
            self.n_first = 0
            self.n_second = 0
            for t in range(n_trees):
                start = roots[t]
                end = roots[t + 1] if t + 1 < n_trees else n
                if end <= start:
                    raise ValueError(f"tree {t} is empty")
                self.roots[t] = start
                self.depths[t] = 0
                depth[start] = 0
                for i in range(start, end):
                    if left[i] == i and right[i] == i:  # a leaf
                        self.depths[t] = max(self.depths[t], depth[i])
                        continue
                    # Children come after their parent (scikit-learn's order), so depth[i] is known by now.
                    if not (i < left[i] < end and i < right[i] < end):
                        raise ValueError(f"node {i}: a child is outside its tree or before it")
                    depth[left[i]] = depth[i] + 1
                    depth[right[i]] = depth[i] + 1
                    c = column[i]
                    if c & SECOND:
                        self.n_second = max(self.n_second, <int>(c & COLUMN) + 1)
                    else:
                        self.n_first = max(self.n_first, <int>(c & COLUMN) + 1)
            for i in range(n):
                self.nodes[i].threshold = threshold[i]
                self.nodes[i].child[0] = left[i]
                self.nodes[i].child[1] = right[i]
                # A leaf reads column 0 of the first matrix (harmlessly: both of its children are itself).
                self.nodes[i].column = 0 if left[i] == i else column[i]
                self.values[i] = value[i]
        finally:
            free(depth)
        self.n_nodes = n
        self.n_trees = n_trees
        self.baseline = baseline

    def __dealloc__(self):
        free(self.nodes)
        free(self.values)
        free(self.roots)
        free(self.depths)

    def __reduce__(self):
        raise TypeError("a compiled Forest is not picklable (it is rebuilt from the fitted model)")

    def raw(self, const float[:, ::1] first, const float[:, ::1] second, double[::1] out):
        """Write every row's raw score (baseline + leaf values, in tree order) into ``out``.

        Row i's columns are ``first[i]`` then, for columns flagged SECOND, ``second[i]`` (pass ``first`` again
        when the stage reads one matrix). The GIL is released while the trees are walked.
        """
        cdef Py_ssize_t n = first.shape[0]
        if out.shape[0] != n or second.shape[0] != n:
            raise ValueError("first, second and out must have the same number of rows")
        if first.shape[1] < max(self.n_first, 1) or second.shape[1] < self.n_second:
            raise ValueError(
                f"the trees read {self.n_first} + {self.n_second} columns, got {first.shape[1]} + {second.shape[1]}"
            )
        if n == 0:
            return
        with nogil:
            _raw(self, &first[0, 0], first.shape[1], &second[0, 0], second.shape[1], n, &out[0])


def expit(const double[::1] x, double[::1] out):
    """Write ``1 / (1 + exp(-x))`` of every value into ``out``: scipy.special.expit's formula with the C
    library's exp, so bitwise its result (numpy's own vectorized exp may differ in the last bit)."""
    cdef Py_ssize_t i, n = x.shape[0]
    if out.shape[0] != n:
        raise ValueError("x and out must have the same length")
    with nogil:
        for i in range(n):
            out[i] = 1.0 / (1.0 + exp(-x[i]))


cdef void _raw(
    Forest f, const float* first, Py_ssize_t stride1, const float* second, Py_ssize_t stride2, Py_ssize_t n,
    double* out,
) noexcept nogil:
    """Raw scores of n rows, BLOCK rows at a time."""
    cdef Py_ssize_t start = 0, r, m
    # rows[2 * r + s]: row r's values in matrix s (0 = first, 1 = second).
    cdef const float* rows[2 * BLOCK]
    cdef double acc[BLOCK]
    while start < n:
        m = min(<Py_ssize_t>BLOCK, n - start)
        for r in range(m):
            rows[2 * r] = first + (start + r) * stride1
            rows[2 * r + 1] = second + (start + r) * stride2
            acc[r] = 0.0
            acc[r] += f.baseline  # scikit-learn starts from zeros and adds the baseline
        _block(f, rows, m, acc)
        memcpy(&out[start], acc, m * sizeof(double))
        start += m


cdef inline void _block(Forest f, const float** rows, Py_ssize_t m, double* acc) noexcept nogil:
    """Add every tree's leaf value, tree by tree, to acc for the m (<= BLOCK) rows given by ``rows``."""
    cdef int32_t idx[BLOCK]
    cdef const Node* nodes = f.nodes
    cdef const Node* node
    cdef int t, s
    cdef Py_ssize_t r
    cdef int32_t root, nxt, moved
    cdef uint32_t c
    cdef float x
    cdef int go_right
    for t in range(f.n_trees):
        root = f.roots[t]
        for r in range(m):
            idx[r] = root
        for s in range(f.depths[t]):
            moved = 0
            for r in range(m):
                node = &nodes[idx[r]]
                c = node.column
                x = rows[2 * r + ((c >> 30) & 1)][c & COLUMN]
                # NaN fails every comparison: it goes left only through the missing bit.
                go_right = not ((x <= node.threshold) | ((x != x) & (c >> 31)))
                nxt = node.child[go_right]
                moved |= nxt ^ idx[r]
                idx[r] = nxt
            if not moved:  # every row sits on a leaf already: the remaining steps would change nothing
                break
        for r in range(m):
            acc[r] += f.values[idx[r]]
