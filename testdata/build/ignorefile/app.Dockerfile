FROM busybox
COPY . /c/
CMD ["ls", "/c"]
