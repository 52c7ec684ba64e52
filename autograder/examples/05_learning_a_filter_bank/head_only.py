"""Jon's training loop stops backpropagating at the linear layer: only V and c learn,
the kernels stay random, and the network stays near guessing."""
# %% all: solution
# %% train
def train(images, labels, n_filters=8, kernel_size=5, epochs=15, lr=0.5, batch_size=32, momentum=0.9, seed=0):
    images, labels = np.asarray(images, float), np.asarray(labels)
    params = init_params(n_filters, kernel_size, int(labels.max()) + 1, seed)
    vel = {k: np.zeros_like(v) for k, v in params.items()}
    rng = np.random.default_rng(seed)
    history = {"loss": [], "accuracy": [], "weights": [params["weights"].copy()]}
    for _ in range(epochs):
        order = rng.permutation(len(images))
        tot, ok = 0.0, 0
        for s in range(0, len(images), batch_size):
            idx = order[s:s + batch_size]
            scores, cache = forward(params, images[idx])
            loss, d = softmax_cross_entropy(scores, labels[idx])
            tot += loss * len(idx)
            ok += int((scores.argmax(1) == labels[idx]).sum())
            grads = {"V": cache["pooled"].T @ d, "c": d.sum(0)}
            for k in grads:
                vel[k] = momentum * vel[k] - lr * grads[k]
                params[k] = params[k] + vel[k]
        history["loss"].append(tot / len(images))
        history["accuracy"].append(ok / len(images))
        history["weights"].append(params["weights"].copy())
    return params, history
